"""Capture (issue 16) against labs of their own: contoso-small at stage 1 captured over WinRM through
playbooks/capture-scenario.yml (read-only, in check mode too), a new lab started from the captured file, captured
again: the two files are identical, and both labs hold the same state for what the capture reads.

contoso-small rather than contoso-large: inventories/lab names contoso-small's hosts (contoso-large adds two OCS
Front Ends it has no inventory for), and a 20,000-user lab twice is too slow on this machine's 2 shared cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "phases"))
from phase12_lab import changing_calls, make_lab  # noqa: E402
from phase_lab import PhaseLab, REPO, collections_tree, recap  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scenario_strings import carries_data, strings as scenario_strings  # noqa: E402

from lync_lab.model.scenario import load_scenario  # noqa: E402

PLAYBOOK = "capture-scenario.yml"


@pytest.fixture(scope="module")
def source_lab(tmp_path_factory):
    lab = make_lab(tmp_path_factory, "capture-source", 1)
    yield lab
    lab.stop()


def _capture(lab, path: Path, *args: str):
    before = len(lab.audit())
    run = lab.playbook(PLAYBOOK, *args, extra={"lync_migration_capture_scenario": str(path)})
    assert run.returncode == 0, run.stdout + run.stderr
    return run, lab.audit()[before:]


def _inventory_for(scenario_file: Path, dest: Path) -> Path:
    """inventories/lab with each host moved to the ports the captured scenario gives it."""
    import shutil

    ports = {s["fqdn"]: s for s in yaml.safe_load(scenario_file.read_text(encoding="utf-8"))["servers"]}
    shutil.copytree(REPO / "inventories" / "lab", dest)
    hosts = yaml.safe_load((dest / "hosts.yml").read_text(encoding="utf-8"))

    def walk(group):
        for name, hv in (group.get("hosts") or {}).items():
            if hv and "ansible_port" in hv:
                hv["ansible_port"], hv["lab_https_port"] = ports[name]["http_port"], ports[name]["https_port"]
        for child in (group.get("children") or {}).values():
            walk(child)

    walk(hosts["all"])
    (dest / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False), encoding="utf-8")
    return dest


class CapturedLab(PhaseLab):
    def __init__(self, root: Path, scenario_file: Path) -> None:
        self._source_inventory = _inventory_for(scenario_file, root / "inventory-source")
        super().__init__(root, 1, collections_tree(root), dns=True, scenario=str(scenario_file))

    def _inventory(self) -> Path:
        extra = {"lync_migration_lab_state_dir": str(self.state_dir), "lync_migration_report_dir": str(self.reports)}
        return self.instance.write_inventory(self._source_inventory, self.root / "inventory", extra,
                                             vars_file="zz_test_lab.yml")


def _users(state):
    keep = ("DisplayName", "SipAddress", "RegistrarPool", "LineURI", "OU", "DistinguishedName", "Enabled", "OnOcs",
            "HomeServer")
    out = {}
    for doc in state["user"].values():
        legacy = doc.get("Legacy") or {}
        out[doc["SipAddress"]] = {**{k: doc[k] for k in keep}, "meeting_policy": legacy.get("meeting_policy")}
    return out


def test_capture_is_read_only_and_loads(source_lab, tmp_path):
    """Check mode and not: only Get-/Test- cmdlets in the audit log, and the file loads in the lab."""
    for mode in (["--check"], []):
        path = tmp_path / f"captured{len(mode)}.yml"
        run, calls = _capture(source_lab, path, *mode)
        assert calls and changing_calls(calls) == []
        assert recap(run.stdout)["changed"] == 1          # the scenario file on the controller, nothing else
        assert "Lab-Passw0rd!" not in run.stdout + run.stderr
        scenario = load_scenario(path)
        assert len(scenario.users) == len(source_lab.dump()["user"])
        # The quotas as each host answers winrm/config: ocs-fe01 is 2008 R2 (WinRM 2.0: 5 shells per user, 150 MB),
        # lync-fe01 2012 R2 (WinRM 3.0) in contoso-small (lab/lync_lab/hosts.py, the sources it cites).
        servers = {s.fqdn: s for s in scenario.servers}
        assert servers["ocs-fe01.contoso.net"].host.quotas.MaxShellsPerUser == 5
        assert servers["ocs-fe01.contoso.net"].host.quotas.MaxMemoryPerShellMB == 150
        assert servers["lync-fe01.contoso.net"].host.quotas.MaxShellsPerUser == 30


def test_round_trip_gives_the_same_file_and_the_same_state(source_lab, tmp_path):
    (tmp_path / "first").mkdir()
    (tmp_path / "again").mkdir()
    first = tmp_path / "first" / "captured.yml"      # the same file name: the scenario is named after it
    _capture(source_lab, first)
    second_lab = CapturedLab(tmp_path / "second", first)
    second_lab.start()
    try:
        second = tmp_path / "again" / "captured.yml"
        _, calls = _capture(second_lab, second)
        assert changing_calls(calls) == []
        assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
        source, copy = source_lab.dump(), second_lab.dump()
        assert _users(copy) == _users(source)
        # allow_anonymous is per user in OCS 2007 R2 (MSFT_SIPESUserSetting.AllowOrganizeMeetingWithAnonymousParticipants),
        # not a property of MSFT_SIPGlobalMeetingPolicyData, so the capture cannot read the lab's policy-level flag.
        def meeting(state):
            return {k: {f: v for f, v in p.items() if f != "allow_anonymous"}
                    for k, p in state["legacy_meeting_policy"].items()}

        assert meeting(copy) == meeting(source)
        assert {k: v["name"] for k, v in copy["legacy_location_profile"].items()} == \
            {k: v["name"] for k, v in source["legacy_location_profile"].items()}
        assert copy["legacy_voice_route"] == source["legacy_voice_route"]
    finally:
        second_lab.stop()


SALT = "capture-test-salt-7f3a"


def test_anonymised_capture_has_no_original_string_and_loads(source_lab, tmp_path):
    from lync_lab.model.stages import dump_state
    from lync_lab.model.store import Store

    source = tmp_path / "source.yml"
    _capture(source_lab, source)
    anonymised = tmp_path / "anonymised.yml"
    run = source_lab.playbook(PLAYBOOK, extra={"lync_migration_capture_scenario": str(anonymised),
                                               "lync_migration_capture_anonymise": True,
                                               "lync_migration_capture_salt": SALT})
    assert run.returncode == 0, run.stdout + run.stderr
    assert SALT not in run.stdout + run.stderr
    original = yaml.safe_load(source.read_text(encoding="utf-8"))
    text = anonymised.read_text(encoding="utf-8")
    strings = {s for s in scenario_strings(original) if carries_data(s)}
    assert len(strings) > 200
    assert sorted(s for s in strings if s in text) == []
    loaded = load_scenario(anonymised)
    assert len(loaded.users) == len(original["users"])
    names = [u["name"] for u in original["users"]]
    pseudo = [u["name"] for u in loaded.users]
    assert len(set(pseudo)) == len(set(names))                           # who shares a display name survives
    assert sum(n != n.strip() for n in pseudo) == sum(n != n.strip() for n in names)
    assert sum("'" in n for n in pseudo) == sum("'" in n for n in names)
    assert sum(not n.isascii() for n in pseudo) == sum(not n.isascii() for n in names)
    store = Store(tmp_path / "anonymised.sqlite")
    try:
        store.seed(loaded, 1)
        assert len(dump_state(store)["user"]) == len(original["users"])
    finally:
        store.close()
    again = tmp_path / "again" / "anonymised.yml"
    again.parent.mkdir()
    source_lab.playbook(PLAYBOOK, extra={"lync_migration_capture_scenario": str(again),
                                         "lync_migration_capture_anonymise": True, "lync_migration_capture_salt": SALT})
    assert again.read_text(encoding="utf-8") == text                   # same salt, same pseudonyms


def test_anonymising_without_a_salt_is_refused(source_lab, tmp_path):
    run = source_lab.playbook(PLAYBOOK, extra={"lync_migration_capture_scenario": str(tmp_path / "x.yml"),
                                               "lync_migration_capture_anonymise": True})
    assert run.returncode != 0 and "lync_migration_capture_salt is not set" in run.stdout + run.stderr
    assert not (tmp_path / "x.yml").exists()


def test_phase1_writes_the_same_capture(source_lab, tmp_path):
    """playbooks/phase1-plan.yml -e lync_migration_capture_scenario=PATH writes what capture-scenario.yml writes."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _capture(source_lab, tmp_path / "a" / "captured.yml")
    before = len(source_lab.audit())
    run = source_lab.playbook("phase1-plan.yml",
                              extra={"lync_migration_capture_scenario": str(tmp_path / "b" / "captured.yml")})
    assert run.returncode == 0, run.stdout + run.stderr
    assert changing_calls(source_lab.audit()[before:]) == []
    assert (tmp_path / "b" / "captured.yml").read_text(encoding="utf-8") == \
        (tmp_path / "a" / "captured.yml").read_text(encoding="utf-8")
