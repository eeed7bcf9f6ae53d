#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_configuration_export
short_description: Export the Central Management store's configuration to a file for an Edge's local store
description:
  - Runs C(Export-CsConfiguration -FileName) on an internal Lync Server 2013 host (deployment guide, "Export your
    topology and copy it to external media for Edge installation", which P7.2 of the migration guide follows). The
    Edge's Deployment Wizard imports this file in I(Install Local Configuration Store).
  - Always exports when run (the file must reflect the topology just published); the phase role runs it only while
    an Edge still has to be installed.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  file_name:
    description: Full path of the .zip to write on the Lync server; an existing file is replaced.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Reports the export it would run.
  diff_mode:
    support: none
    description: Nothing to compare; the export is a new file.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: P7.2 - the configuration for the Edge's local store
  lync.migration.cs_configuration_export:
    file_name: C:\LyncMigration\Phase7\EdgeConfiguration.zip
"""

RETURN = r"""
file_name:
  description: The file written (or that would be written).
  returned: always
  type: str
cmdlet:
  description: The cmdlet run (or that would run).
  returned: always
  type: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule


def main():
    module = LyncModule(argument_spec=dict(file_name=dict(type="str", required=True)), supports_check_mode=True)
    name = module.params["file_name"]
    if not module.check_mode:
        module.call_or_fail("Export-CsConfiguration", {"FileName": name, "Force": True})
    module.exit_json(changed=True, file_name=name, cmdlet="Export-CsConfiguration -FileName %s -Force" % name)


if __name__ == "__main__":
    main()
