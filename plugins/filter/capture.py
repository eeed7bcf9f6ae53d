# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the capture (playbooks/capture-scenario.yml; the logic: plugins/module_utils/lync/capture.py)."""

from __future__ import annotations

import json

from ansible.errors import AnsibleFilterError
from ansible_collections.lync.migration.plugins.module_utils.lync import capture as _capture


def capture_scenario(instances, hosts, name, account, lab_password, netbios=None, pilot_pool=None, edge_pool=None,
                     site=None):
    """The lab scenario (YAML text) of the deployment cs_wmi_info read (``instances``) and the inventory's hosts."""
    try:
        netbios, admin_user = _capture.split_account(account, netbios)
        # Plain str/dict/list (Ansible hands tagged subclasses, which YAML's safe dumper refuses).
        plain = json.loads(json.dumps([instances or {}, hosts or {}, name, netbios, admin_user, lab_password,
                                       pilot_pool or None, edge_pool or None, site or None]))
        scenario = _capture.build_scenario(*plain[:6], pilot_pool=plain[6], edge_pool=plain[7], site=plain[8])
    except _capture.CaptureError as e:
        raise AnsibleFilterError(str(e))
    return _capture.scenario_yaml(scenario)


class FilterModule(object):
    def filters(self):
        return {"capture_scenario": capture_scenario}
