# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the capture (playbooks/capture-scenario.yml; the logic: plugins/module_utils/lync/capture.py)."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.module_utils.lync import anonymise as _anonymise
from ansible_collections.lync.migration.plugins.module_utils.lync import capture as _capture
from ansible_collections.lync.migration.plugins.module_utils.lync import capture_objects as _objects


def capture_scenario(instances, hosts, name, account, lab_password, netbios=None, pilot_pool=None, edge_pool=None,
                     site=None, anonymise=False, salt=None, quotas=None, directory=None, systems=None, dns=None,
                     plan=None):
    """The lab scenario (YAML text) of the deployment cs_wmi_info read (``instances``) and the inventory's hosts;
    with ``anonymise``, every name, address, number, domain and FQDN pseudonymised with ``salt``.

    ``quotas`` and ``systems``: looped cs_winrm_quota_info / cs_wmi_info (Win32_OperatingSystem) results per host;
    ``directory``: cs_wmi_info's ds_user read on a domain controller; ``dns``: cs_dns_info's records; ``plan``: the
    inventory's Lync side (capture.build_scenario)."""
    try:
        netbios, admin_user = _capture.split_account(account, netbios)
        # Plain str/dict/list (Ansible hands tagged subclasses, which YAML's safe dumper refuses).
        plain = json.loads(json.dumps([instances or {}, hosts or {}, name, netbios, admin_user, lab_password,
                                       pilot_pool or None, edge_pool or None, site or None, _quotas(quotas),
                                       _directory(directory), _systems(systems), _records(dns), plan or {}]))
        scenario = _capture.build_scenario(*plain[:6], pilot_pool=plain[6], edge_pool=plain[7], site=plain[8],
                                           quotas=plain[9], directory=plain[10], systems=plain[11], dns=plain[12],
                                           plan=plain[13])
        unplaced = _capture.unplaced_wave_members(scenario, plain[13].get("waves"))
        if anonymise:
            scenario = _anonymise.anonymise_scenario(scenario, salt)
    except (_capture.CaptureError, _anonymise.AnonymiseError) as e:
        raise AnsibleFilterError(str(e))
    header = ["Anonymised (lync_migration_capture_anonymise): pseudonyms are HMAC-SHA256 of the salt and each value;",
              "the lab account is " + _anonymise.LAB_ACCOUNT + "."] if anonymise else []
    if unplaced:
        header.append("%d wave member(s) of the inventory name no captured user and are left out of waves:" % len(unplaced))
        if not anonymise:
            header += ["  " + u for u in unplaced]
    return _capture.scenario_yaml(scenario, header)


def capture_dns_queries(hosts, instances, plan=None):
    """The A/SRV queries (cs_dns_info's queries option) for the capture's dns: section."""
    plain = json.loads(json.dumps([hosts or {}, instances or {}, plan or {}]))
    try:
        return _objects.dns_queries(*plain)
    except _capture.CaptureError as e:
        raise AnsibleFilterError(str(e))


def _directory(registered):
    """ds_user instances from cs_wmi_info's result (or a plain list)."""
    if isinstance(registered, dict):
        return (registered.get("instances") or {}).get("ds_user") or []
    return registered or []


def _systems(registered):
    """host -> Win32_OperatingSystem instance from a looped cs_wmi_info result ({results: [{item, instances}]})."""
    if isinstance(registered, dict) and "results" in registered:
        out = {}
        for r in registered["results"]:
            found = (r.get("instances") or {}).get("Win32_OperatingSystem") or []
            if r.get("item") and found:
                out[r["item"]] = found[0]
        return out
    return registered or {}


def _records(registered):
    if isinstance(registered, dict):
        return registered.get("records") or []
    return registered or []


def _quotas(registered):
    """host -> quotas from a looped cs_winrm_quota_info result ({results: [{item, quotas}]}) or a plain dict."""
    if isinstance(registered, dict) and "results" in registered:
        return {r["item"]: r.get("quotas") or {} for r in registered["results"] if r.get("item")}
    return registered or {}


def capture_pool_objects(instances, registered):
    """``instances`` with the classes read on each legacy pool host (a looped cs_wmi_info result) added, each
    instance once (a pool's server may also list other pools' objects)."""
    merged = {k: list(v) for k, v in (json.loads(json.dumps(instances or {}))).items()}
    for r in (registered or {}).get("results") or []:
        for cls, found in (json.loads(json.dumps(r.get("instances") or {}))).items():
            have = merged.setdefault(cls, [])
            seen = {json.dumps(i, sort_keys=True) for i in have}
            for inst in found:
                if json.dumps(inst, sort_keys=True) not in seen:
                    have.append(inst)
                    seen.add(json.dumps(inst, sort_keys=True))
    return merged


def capture_hosts(hosts):
    """The inventory hosts a capture describes (their WinRM quotas are read), in role order."""
    return _objects.capture_hosts(hosts or {})


class FilterModule(object):
    def filters(self):
        return {"capture_scenario": capture_scenario, "capture_hosts": capture_hosts,
                "capture_dns_queries": capture_dns_queries, "capture_pool_objects": capture_pool_objects}
