#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_web_service_configuration
short_description: Meeting join page options of the Lync Server 2013 web services (P9.9)
description:
  - Reads C(Get-CsWebServiceConfiguration) and changes only what differs with C(Set-CsWebServiceConfiguration),
    then reads it back. These options are no longer in the Control Panel (migration guide P9.9).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  identity:
    description: Configuration identity (C(Global), C(site:Redmond), C(service:WebServer:pool02.contoso.net)).
    type: str
    default: Global
  show_join_using_legacy_client_link:
    description: Offer users without Lync a join with Office Communicator 2007 R2 (ShowJoinUsingLegacyClientLink).
    type: bool
  show_alternate_join_options_expanded:
    description: Show the alternative join options expanded (ShowAlternateJoinOptionsExpanded).
    type: bool
attributes:
  check_mode:
    support: full
    description: Reports the Set-CsWebServiceConfiguration call it would make.
  diff_mode:
    support: full
    description: The settings before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: Let users join meetings with Office Communicator 2007 R2 (P9.9)
  lync.migration.cs_web_service_configuration:
    show_join_using_legacy_client_link: true
"""

RETURN = r"""
settings:
  description: The managed settings after the task.
  returned: always
  type: dict
cmdlet:
  description: The Set- call made (or that would be made), null when nothing differs.
  returned: always
  type: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.global_settings import ensure_settings
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

SETTINGS = {
    "show_join_using_legacy_client_link": ("ShowJoinUsingLegacyClientLink", "bool"),
    "show_alternate_join_options_expanded": ("ShowAlternateJoinOptionsExpanded", "bool"),
}


def main():
    module = LyncModule(
        argument_spec=dict(
            identity=dict(type="str", default="Global"),
            show_join_using_legacy_client_link=dict(type="bool"),
            show_alternate_join_options_expanded=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**ensure_settings(module, "WebServiceConfiguration", SETTINGS, module.params["identity"]))


if __name__ == "__main__":
    main()
