#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_ad_preparation
short_description: Prepare Active Directory for Lync Server 2013 (schema, forest, domains), only what is not done yet
description:
  - Reads the preparation state first with C(Get-CsAdServerSchema), C(Get-CsAdForest) and C(Get-CsAdDomain), then
    runs only the steps that are not done, in the order the Deployment Wizard's Prepare Active Directory runs
    them (P3.1 steps 1-5) - C(Install-CsAdServerSchema), C(Enable-CsAdForest), C(Enable-CsAdDomain) per domain.
  - Runs where the Lync Server Management Shell is, that is a server with the Lync Server 2013 Core Components
    (the Deployment Wizard's first run installs them on the first Front End), never on an OCS 2007 R2 server.
  - Required rights - schema - Schema Admins and administrator on the schema master; forest - Enterprise Admins;
    domain - Domain Admins or Enterprise Admins.
  - After the steps ran, reads the state back and fails if any step is still not done.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  domains:
    description: DNS names of the domains to prepare (C(Enable-CsAdDomain -Domain)); the forest root is the usual one.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    description: Reads the state and reports the cmdlets it would run.
  diff_mode:
    support: full
    description: Schema, forest and domain preparation state before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the server over WinRM.
"""

EXAMPLES = r"""
- name: Prepare Active Directory (P3.1)
  lync.migration.cs_ad_preparation:
    domains: [contoso.net]
"""

RETURN = r"""
state:
  description: The preparation state after the run (in check mode, as it was).
  returned: always
  type: dict
  contains:
    schema: {description: Get-CsAdServerSchema, type: str, sample: SCHEMA_VERSION_STATE_CURRENT}
    forest: {description: Get-CsAdForest, type: str, sample: LC_FORESTSETTINGS_STATE_READY}
    domains: {description: Get-CsAdDomain per domain, type: dict, sample: {contoso.net: LC_DOMAINSETTINGS_STATE_READY}}
cmdlets:
  description: The cmdlets run (or, in check mode, that would run), in order.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

# The ready values of the enumerations Get-CsAdServerSchema (SchemaVersionState), Get-CsAdForest
# (LcForestSettingsState) and Get-CsAdDomain (LcDomainSettingsState) return: office-docs-powershell, each
# cmdlet's page ("If the cmdlet returns any other value, then ... has not been ...").
SCHEMA_DONE = "SCHEMA_VERSION_STATE_CURRENT"
FOREST_DONE = "LC_FORESTSETTINGS_STATE_READY"
DOMAIN_DONE = "LC_DOMAINSETTINGS_STATE_READY"


def _value(module, cmdlet, objects):
    """The enumeration's name (the envelope returns an enum as its name, never as its members)."""
    if len(objects) == 1 and isinstance(objects[0], str):
        return objects[0]
    module.fail_json(msg="%s returned %r where Lync returns one state value; nothing was changed" % (cmdlet, objects))


def read_state(module, domains):
    calls = [Call("Get-CsAdServerSchema"), Call("Get-CsAdForest")]
    calls += [Call("Get-CsAdDomain", {"Domain": d}) for d in domains]
    results = module.run_calls(calls)
    for r in results:
        if not r.ok:
            module.fail_json_from_error(r.error, cmdlet=r.call.cmdlet)
    return {
        "schema": _value(module, "Get-CsAdServerSchema", results[0].objects),
        "forest": _value(module, "Get-CsAdForest", results[1].objects),
        "domains": dict((d, _value(module, "Get-CsAdDomain", r.objects)) for d, r in zip(domains, results[2:])),
    }


def plan(state):
    calls = []
    if state["schema"] != SCHEMA_DONE:
        calls.append(Call("Install-CsAdServerSchema"))
    if state["forest"] != FOREST_DONE:
        calls.append(Call("Enable-CsAdForest"))
    for domain, value in state["domains"].items():
        if value != DOMAIN_DONE:
            calls.append(Call("Enable-CsAdDomain", {"Domain": domain}))
    return calls


def describe(call):
    extra = " -Domain %s" % call.params["Domain"] if "Domain" in call.params else ""
    return "%s%s" % (call.cmdlet, extra)


def ad_preparation(module):
    domains = [d.strip().lower() for d in module.params["domains"]]
    bad = [d for d in domains if not d or " " in d or "." not in d]
    if bad:
        module.fail_json(msg="option domains: %r is not a DNS domain name (write e.g. contoso.net)" % (bad[0],))
    before = read_state(module, domains)
    calls = plan(before)
    result = dict(changed=bool(calls), cmdlets=[describe(c) for c in calls], state=before)
    if module._diff:
        result["diff"] = dict(before=before, after=dict(
            schema=SCHEMA_DONE, forest=FOREST_DONE, domains=dict((d, DOMAIN_DONE) for d in domains)))
    if not calls or module.check_mode:
        return result
    # One call at a time, in order: each step requires the one before it (schema, then forest, then domains).
    for call in calls:
        module.call_or_fail(call.cmdlet, call.params)
    after = read_state(module, domains)
    undone = [k for k, v, want in (("schema", after["schema"], SCHEMA_DONE), ("forest", after["forest"], FOREST_DONE))
              if v != want] + [d for d, v in after["domains"].items() if v != DOMAIN_DONE]
    if undone:
        module.fail_json(msg="Active Directory preparation ran but is not complete for: %s (the read-back shows %s); "
                             "wait for AD replication and run again" % (", ".join(undone), after), state=after,
                         cmdlets=result["cmdlets"])
    result["state"] = after
    return result


def main():
    module = LyncModule(argument_spec=dict(domains=dict(type="list", elements="str", required=True)),
                        supports_check_mode=True)
    module.exit_json(**ad_preparation(module))


if __name__ == "__main__":
    main()
