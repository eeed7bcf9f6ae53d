# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the capture (playbooks/capture-scenario.yml; the logic: plugins/module_utils/lync/capture.py)."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.module_utils.lync import anonymise as _anonymise
from ansible_collections.lync.migration.plugins.module_utils.lync import capture as _capture


def capture_scenario(instances, hosts, name, account, lab_password, netbios=None, pilot_pool=None, edge_pool=None,
                     site=None, anonymise=False, salt=None, quotas=None):
    """The lab scenario (YAML text) of the deployment cs_wmi_info read (``instances``) and the inventory's hosts;
    with ``anonymise``, every name, address, number, domain and FQDN pseudonymised with ``salt``."""
    try:
        netbios, admin_user = _capture.split_account(account, netbios)
        # Plain str/dict/list (Ansible hands tagged subclasses, which YAML's safe dumper refuses).
        plain = json.loads(json.dumps([instances or {}, hosts or {}, name, netbios, admin_user, lab_password,
                                       pilot_pool or None, edge_pool or None, site or None, _quotas(quotas)]))
        scenario = _capture.build_scenario(*plain[:6], pilot_pool=plain[6], edge_pool=plain[7], site=plain[8],
                                           quotas=plain[9])
        if anonymise:
            scenario = _anonymise.anonymise_scenario(scenario, salt)
    except (_capture.CaptureError, _anonymise.AnonymiseError) as e:
        raise AnsibleFilterError(str(e))
    header = ["Anonymised (lync_migration_capture_anonymise): pseudonyms are HMAC-SHA256 of the salt and each value;",
              "the lab account is " + _anonymise.LAB_ACCOUNT + "."] if anonymise else []
    return _capture.scenario_yaml(scenario, header)


def _quotas(registered):
    """host -> quotas from a looped cs_winrm_quota_info result ({results: [{item, quotas}]}) or a plain dict."""
    if isinstance(registered, dict) and "results" in registered:
        return {r["item"]: r.get("quotas") or {} for r in registered["results"] if r.get("item")}
    return registered or {}


def capture_hosts(hosts):
    """The inventory hosts a capture describes (their WinRM quotas are read), in role order."""
    return _capture.capture_hosts(hosts or {})


class FilterModule(object):
    def filters(self):
        return {"capture_scenario": capture_scenario, "capture_hosts": capture_hosts}
