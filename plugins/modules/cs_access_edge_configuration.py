#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_access_edge_configuration
short_description: Federation and remote access settings of the Lync Server 2013 Access Edge (global)
description:
  - Reads C(Get-CsAccessEdgeConfiguration) and changes only the settings that differ with
    C(Set-CsAccessEdgeConfiguration) (migration guide P8.1.h), then reads them back.
  - Options left unset are not changed.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  identity:
    description: Configuration identity; the Access Edge configuration exists at the global scope.
    type: str
    default: Global
  allow_federated_users:
    description: Users of federated domains may communicate with your users (AllowFederatedUsers).
    type: bool
  allow_outside_users:
    description: Your users may sign in from outside the network, remote access (AllowOutsideUsers).
    type: bool
  allow_anonymous_users:
    description: Anonymous users may join meetings (AllowAnonymousUsers).
    type: bool
  enable_partner_discovery:
    description: Discover federated partners through DNS SRV (EnablePartnerDiscovery; with DNS SRV routing).
    type: bool
attributes:
  check_mode:
    support: full
    description: Reports the Set-CsAccessEdgeConfiguration call it would make.
  diff_mode:
    support: full
    description: The settings before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: Federation and remote access through the Lync Edge (P8.1.h)
  lync.migration.cs_access_edge_configuration:
    allow_federated_users: true
    allow_outside_users: true
"""

RETURN = r"""
settings:
  description: The managed settings after the task.
  returned: always
  type: dict
  sample: {allow_federated_users: true, allow_outside_users: true, allow_anonymous_users: true, enable_partner_discovery: false}
cmdlet:
  description: The Set- call made (or that would be made), null when nothing differs.
  returned: always
  type: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.global_settings import ensure_settings
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

SETTINGS = {
    "allow_federated_users": ("AllowFederatedUsers", "bool"),
    "allow_outside_users": ("AllowOutsideUsers", "bool"),
    "allow_anonymous_users": ("AllowAnonymousUsers", "bool"),
    "enable_partner_discovery": ("EnablePartnerDiscovery", "bool"),
}


def main():
    module = LyncModule(
        argument_spec=dict(
            identity=dict(type="str", default="Global"),
            allow_federated_users=dict(type="bool"),
            allow_outside_users=dict(type="bool"),
            allow_anonymous_users=dict(type="bool"),
            enable_partner_discovery=dict(type="bool"),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**ensure_settings(module, "AccessEdgeConfiguration", SETTINGS, module.params["identity"]))


if __name__ == "__main__":
    main()
