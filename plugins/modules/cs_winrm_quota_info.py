#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_winrm_quota_info
short_description: Read a Windows host's WinRM quotas (winrm get winrm/config)
description:
  - One WS-Management Get of C(winrm/config) on the host, as C(winrm get winrm/config) does; no shell, no
    PowerShell. Returns the quotas the collection's WinRM layer works within (C(MaxShellsPerUser),
    C(MaxMemoryPerShellMB), C(MaxEnvelopeSizekb), C(IdleTimeout), ...).
  - The capture (playbooks/capture-scenario.yml) writes them into the lab scenario's C(servers[].quotas).
  - A host that refuses the read (reading the configuration needs the listener's read permission) returns
    C(quotas={}) and C(readable=false).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
  - lync.migration.attributes.info_module
options: {}
"""

EXAMPLES = r"""
- name: The quotas of every Windows server
  lync.migration.cs_winrm_quota_info:
  delegate_to: "{{ item }}"
  loop: "{{ groups['windows'] }}"
  register: quotas
"""

RETURN = r"""
quotas:
  description: Quota name -> value, as winrm/config spells them (IdleTimeout and MaxTimeoutms in ms).
  returned: always
  type: dict
  sample: {"MaxShellsPerUser": 5, "MaxMemoryPerShellMB": 150, "MaxEnvelopeSizekb": 150}
readable:
  description: Whether the host answered the read.
  returned: always
  type: bool
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule


def quota_info(module):
    session = module.session_factory(module.connection)
    try:
        quotas = dict(session.read_quotas() or {})
    finally:
        session.close()
    return dict(changed=False, quotas=quotas, readable=bool(quotas))


def main():
    module = LyncModule(argument_spec=dict(), supports_check_mode=True)
    module.exit_json(**quota_info(module))


if __name__ == "__main__":
    main()
