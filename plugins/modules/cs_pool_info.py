#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_pool_info
short_description: List the pools of the Lync Server 2013 topology, legacy OCS 2007 R2 pools included
description:
  - Runs C(Get-CsPool). After Merge-CsLegacyTopology the OCS 2007 R2 pools appear in the BackCompatSite and are
    reported with RV(pools[].legacy=true).
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
  - lync.migration.attributes.info_module
options:
  identity:
    description: Only this pool (its FQDN).
    type: str
"""

EXAMPLES = r"""
- name: Is the pilot pool a Registrar pool?
  lync.migration.cs_pool_info:
    identity: pool02.contoso.net
  register: pilot_pool
  failed_when: not pilot_pool.pools[0].registrar
"""

RETURN = r"""
pools:
  description: The pools.
  returned: always
  type: list
  elements: dict
  contains:
    identity: {description: Pool identity, type: str}
    fqdn: {description: Pool FQDN, type: str}
    site: {description: Site the pool belongs to, type: str}
    services: {description: "Services in the pool, such as Registrar:pool02.contoso.net", type: list, elements: str}
    computers: {description: Computers in the pool, type: list, elements: str}
    registrar: {description: The pool runs the Registrar service (users can be homed on it), type: bool}
    legacy: {description: OCS 2007 R2 pool (in the BackCompatSite), type: bool}
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule
from ansible_collections.lync.migration.plugins.module_utils.lync.users import pool_facts, pools_call


def pool_info(module):
    call = pools_call(module.params["identity"])
    objects = module.call_or_fail(call.cmdlet, call.params, select=call.select)
    return dict(changed=False, pools=[pool_facts(o) for o in objects])


def main():
    module = LyncModule(argument_spec=dict(identity=dict(type="str")), supports_check_mode=True)
    module.exit_json(**pool_info(module))


if __name__ == "__main__":
    main()
