"""Capture round trip on contoso-large (issue 16's acceptance): a lab at stage 1 captured through
playbooks/capture-scenario.yml over WinRM, as from a real OCS 2007 R2 deployment -> scenario file -> a new lab from
that file -> captured again. The two files are identical, and the second lab's state equals the first's for every
modelled object except the differences listed in NOT_READABLE, each with the reason no read over WinRM shows it.

The capture reads only: the audit log of the source lab shows Get-WmiObject calls and nothing that changes state,
in check mode and not. The anonymised capture of the same lab holds none of the source's strings and keeps what
a rehearsal needs (counts, shared display names, leading/trailing spaces, apostrophes, non-ASCII letters, pools).

The source is contoso-large with a few of its generated users renamed the way real directories are (ODDITIES):
the shipped file's generated names are plain ASCII, one per user.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "phases"))
from phase12_lab import changing_calls  # noqa: E402
from phase_lab import PhaseLab, REPO, collections_tree, recap  # noqa: E402
from scenario_strings import carries_data, strings  # noqa: E402
from state_diff import state_differences  # noqa: E402

from lync_lab.model import users as lab_users  # noqa: E402
from lync_lab.model.scenario import load_scenario  # noqa: E402

# About 12 minutes on 2 cores (20,000 users captured twice, a second lab seeded from the file): its own target,
# `make capture-large`, not `make test`, which runs the same round trip on contoso-small
# (test_capture_roundtrip.py).
pytestmark = pytest.mark.skipif(os.environ.get("LYNC_CAPTURE_LARGE") != "1",
                                reason="contoso-large capture round trip: make capture-large (LYNC_CAPTURE_LARGE=1)")

PLAYBOOK = "capture-scenario.yml"
SOURCE = "contoso-large"
# Scenario role -> the inventory group inventories/lab gives such a host (capture.py GROUP_ROLES, reversed).
ROLE_GROUPS = {"ocs_frontend": "ocs_legacy_pool", "ocs_edge": "ocs_legacy_edge", "ocs_mediation": "ocs_legacy_mediation",
               "lync_edge": "lync_edge", "dc": "domain_controllers"}

# What the second lab lacks or holds differently, kind -> what differs (state_diff's summary), and why: the reads
# over WinRM do not show it (capture.py NOT_CAPTURED says the same in the file's header).
NOT_READABLE = {
    # Meetings live in each pool's back-end database; OCS 2007 R2 WMI has no class for them.
    "conference": {"missing": 5004},
    # No OCS 2007 R2 WMI class for Exchange UM contacts (reference, not_captured).
    "exum_contact": {"missing": 2},
    # The definitions: external access and archiving are per-user flags in OCS 2007 R2, not named policies; the
    # voice policy's (MSFT_SIPGlobalUCPolicyData) properties are not in the reference (names only are written).
    "legacy_external_access_policy": {"missing": 2},
    "legacy_archiving_policy": {"missing": 2},
    "legacy_voice_policy": {"fields": {"allow_call_forwarding": 2, "allow_simul_ring": 2, "pstn_usages": 2}},
    # allow_anonymous is per user in OCS 2007 R2 (MSFT_SIPESUserSetting), not a MSFT_SIPGlobalMeetingPolicyData property.
    "legacy_meeting_policy": {"fields": {"allow_anonymous": 3}},
}
# Per user: the location profile and presence policy are not MSFT_SIPESUserSetting properties (2007 list), and
# the external access/archiving "policies" are the flags above. Every other user field is read.
USER_FIELDS_NOT_READABLE = {"Legacy.location_profile", "Legacy.presence_policy", "Legacy.external_access_policy",
                            "Legacy.archiving_policy"}


# Display names real directories have: trailing and leading spaces, an apostrophe, non-ASCII letters, a name two
# people share.
ODDITIES = ["Ken Myer ", " Lee Chen", "Patrick O'Brien", "José Álvarez", "Chris Smith", "Chris Smith"]
SALT = "large-capture-salt-5b1e"


def _rename_some_users(tx):
    generated = sorted(k for k, d in tx.query("user") if d["DisplayName"][-5:].isdigit())[:len(ODDITIES)]
    seen = set()
    for sam, name in zip(generated, ODDITIES):
        old = tx.get("user", sam)
        # A CN is unique in its container: the second Chris Smith lives in another OU, as in a real directory.
        ou = old["OU"] if name not in seen else "OU=Sales," + old["OU"]
        seen.add(name)
        doc = dict(old, DisplayName=name, OU=ou, DistinguishedName="CN=%s,%s" % (lab_users._escape_cn(name), ou),
                   AdEnabled="'" not in name)           # and one account disabled in AD
        lab_users.put_user(tx, doc, "CONTOSO", old)


def _inventory_source(scenario_file: Path, dest: Path) -> Path:
    """inventories/lab with each host on the ports ``scenario_file`` gives it, and the scenario's servers that
    inventories/lab lacks (contoso-large's ocs-fe03, ocs-fe04) added to the group for their role."""
    servers = yaml.safe_load(scenario_file.read_text(encoding="utf-8"))["servers"]
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(REPO / "inventories" / "lab", dest)
    hosts = yaml.safe_load((dest / "hosts.yml").read_text(encoding="utf-8"))
    windows = hosts["all"]["children"]["windows"]["children"]
    known = {}

    def walk(group):
        for name, hv in (group.get("hosts") or {}).items():
            known.setdefault(name, []).append(hv)
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(hosts["all"])
    for s in servers:
        ports = {"ansible_port": s["http_port"], "lab_https_port": s["https_port"]}
        if s["fqdn"] in known:
            for hv in known[s["fqdn"]]:
                if hv and "ansible_port" in hv:
                    hv.update(ports)
        elif s["role"] in ROLE_GROUPS:
            group = windows.setdefault(ROLE_GROUPS[s["role"]], {})
            group["hosts"] = dict(group.get("hosts") or {}, **{s["fqdn"]: ports})
    (dest / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False), encoding="utf-8")
    return dest


class ScenarioLab(PhaseLab):
    """A stage-1 lab of ``scenario`` (a name or a file) with an inventory of its servers."""

    def __init__(self, root: Path, scenario: str | Path) -> None:
        scenario_file = Path(scenario) if Path(scenario).suffix == ".yml" else \
            REPO / "lab" / "lync_lab" / "scenarios" / f"{scenario}.yml"
        self._source_inventory = _inventory_source(scenario_file, root / "inventory-source")
        loaded = load_scenario(scenario_file)
        # As make demo does for contoso-large (tools/demo.py): the scenario's waves and legacy pools.
        self.scenario_vars = {
            "lync_migration_waves": [{"name": n, "identities": list(ids)} for n, ids in loaded.waves.items()],
            "lync_migration_legacy_pools": [p["fqdn"] for p in (loaded.raw.get("legacy") or {}).get("pools", [])]}
        super().__init__(root, 1, collections_tree(root), dns=True, scenario=str(scenario_file))

    def _inventory(self) -> Path:
        extra = {"lync_migration_lab_state_dir": str(self.state_dir), "lync_migration_report_dir": str(self.reports),
                 **self.scenario_vars}
        return self.instance.write_inventory(self._source_inventory, self.root / "inventory", extra,
                                             vars_file="zz_test_lab.yml")


def _capture(lab, path: Path, *args: str):
    before = len(lab.audit())
    run = lab.playbook(PLAYBOOK, *args, extra={"lync_migration_capture_scenario": str(path)})
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run, lab.audit()[before:]


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    root = tmp_path_factory.mktemp("large-capture")
    source = ScenarioLab(root / "source", SOURCE)
    source.start(prepare=_rename_some_users)
    second = None
    try:
        (root / "first").mkdir()
        first = root / "first" / "captured.yml"     # the same file name both times: the scenario is named after it
        run, calls = _capture(source, first, "--check")
        second = ScenarioLab(root / "second", first)
        second.start()
        (root / "again").mkdir()
        again = root / "again" / "captured.yml"
        run2, calls2 = _capture(second, again)
        anonymised = root / "anonymised.yml"
        before = len(source.audit())
        run3 = source.playbook(PLAYBOOK, extra={"lync_migration_capture_scenario": str(anonymised),
                                                "lync_migration_capture_anonymise": True,
                                                "lync_migration_capture_salt": SALT})
        assert run3.returncode == 0, run3.stdout[-4000:]
        yield {"source": source, "second": second, "first": first, "again": again, "runs": (run, run2, run3),
               "calls": (calls, calls2, source.audit()[before:]), "states": (source.dump(), second.dump()),
               "anonymised": anonymised}
    finally:
        if second is not None:
            second.stop()
        source.stop()


def test_capture_reads_only_in_check_mode_too(round_trip):
    for run, calls in zip(round_trip["runs"], round_trip["calls"]):
        assert calls and changing_calls(calls) == []
        assert {c["cmdlet"] for c in calls} == {"Get-WmiObject"}
        assert recap(run.stdout)["changed"] == 1           # the scenario file on the controller, nothing else
        assert "Lab-Passw0rd!" not in run.stdout + run.stderr and SALT not in run.stdout + run.stderr


def test_the_two_captures_are_identical(round_trip):
    first, again = round_trip["first"].read_text(encoding="utf-8"), round_trip["again"].read_text(encoding="utf-8")
    assert first == again
    captured = yaml.safe_load(first)
    assert len(captured["users"]) == 20004
    servers = {s["fqdn"]: s for s in captured["servers"]}
    # Each host's OS as Win32_OperatingSystem gives it, and its WinRM quotas (contoso-large's mix).
    assert {f: s.get("os") for f, s in servers.items()} == {
        "ocs-fe01.contoso.net": "2008r2", "ocs-fe03.contoso.net": "2008r2sp1", "ocs-fe04.contoso.net": "2008r2",
        "ocs-edge01.contoso.net": "2003sp2", "ocs-med01.contoso.net": "2008sp2", "lync-fe01.contoso.net": "2008r2sp1-wmf3",
        "lync-edge01.contoso.net": "2012", "dc01.contoso.net": "2008r2"}
    assert servers["ocs-fe03.contoso.net"]["quotas"]["MaxShellsPerUser"] == 5
    assert captured["waves"] == {"test": ["David Pelton", "Hao Chen"], "pilot": ["Katie Jordan", "Sara Davis"]}


def test_second_lab_holds_the_first_labs_state_but_what_no_read_shows(round_trip):
    source, copy = round_trip["states"]
    differences = state_differences(source, copy)
    users = differences.pop("user", {})
    assert set(users.get("fields", {})) <= USER_FIELDS_NOT_READABLE, users
    assert not users.get("missing") and not users.get("extra"), users
    assert differences == NOT_READABLE


def test_anonymised_capture_holds_no_source_string_and_keeps_what_a_rehearsal_needs(round_trip):
    import re
    from collections import Counter

    source_scenario = load_scenario(REPO / "lab" / "lync_lab" / "scenarios" / f"{SOURCE}.yml")
    plain = yaml.safe_load(round_trip["first"].read_text(encoding="utf-8"))
    text = round_trip["anonymised"].read_text(encoding="utf-8")
    anon = yaml.safe_load(text)
    # Every string of the source: the scenario file (its generated users expanded), the renamed users, and
    # everything the plain capture of the same lab wrote.
    # (The plain capture's own name is the test's file name, not the deployment's.)
    originals = {s for s in set(strings(source_scenario.raw)) | set(strings(source_scenario.users))
                 | set(ODDITIES) | set(strings(dict(plain, name=None))) if carries_data(s)}
    assert len(originals) > 60000
    assert sorted(originals & set(strings(anon))) == []
    # ... nor inside another value: no word of six letters or more of any original (a name, a domain label) is a
    # word of any value of the file (shorter words and numbers recur by chance among 20,000 pseudonyms).
    def words(value):
        return {w for w in re.findall(r"[^\W\d_]{6,}", value)}

    # (DNS service labels such as _sipinternaltls are Microsoft's names, kept by design.)
    original_words = set().union(*(words(re.sub(r"(^|\.)_[a-z]+", "", s)) for s in originals))
    assert len(original_words) > 100
    assert sorted(original_words & set().union(*(words(v) for v in strings(anon)))) == []
    for word in ("contoso", "Contoso", "CONTOSO", "Redmond", "Dallas", "pool01", "lyncadmin"):
        assert word not in text
    # The counts and the shapes.
    assert len(anon["users"]) == len(plain["users"]) == 20004
    for key in ("pools", "meeting_policies", "presence_policies", "voice_policies", "location_profiles", "voice_routes"):
        assert len(anon["legacy"][key]) == len(plain["legacy"][key]), key
    assert [len(p["rules"]) for p in anon["legacy"]["location_profiles"]] == \
        [len(p["rules"]) for p in plain["legacy"]["location_profiles"]]
    for key in ("response_groups", "dial_in_numbers", "legacy_pools"):
        assert len(anon["topology"][key]) == len(plain["topology"][key]), key
    assert len(anon["dns"]["records"]) == len(plain["dns"]["records"])
    names, pseudo = [u["name"] for u in plain["users"]], [u["name"] for u in anon["users"]]
    assert sorted(Counter(names).values()) == sorted(Counter(pseudo).values())        # who shares a name
    for before, after in zip(names, pseudo):                                          # the same user, in order
        assert len(before) == len(after)
        assert [i for i, c in enumerate(before) if c in " '"] == [i for i, c in enumerate(after) if c in " '"]
        assert [i for i, c in enumerate(before) if not c.isascii()] == [i for i, c in enumerate(after) if not c.isascii()]
    assert sum(n != n.strip() for n in pseudo) == 2 and sum("'" in n for n in pseudo) == 1
    pools = {(b["pool"], a["pool"]) for b, a in zip(plain["users"], anon["users"])}
    assert len(pools) == len({b for b, _a in pools}) == len({a for _b, a in pools}) == 3      # pool membership kept
    assert [s["fqdn"].count(".") for s in anon["servers"]] == [s["fqdn"].count(".") for s in plain["servers"]]
    assert sum(u.get("ad_enabled") is False for u in anon["users"]) == sum(u.get("ad_enabled") is False for u in plain["users"]) == 1
    # The anonymised file is a scenario the lab loads.
    path = round_trip["anonymised"]
    assert len(load_scenario(path).users) == 20004
