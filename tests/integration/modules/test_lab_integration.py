"""The modules against the real rehearsal lab (lync-lab serve, contoso-small at stage 6) over NTLM/HTTP."""

import pytest

from ansible_collections.lync.migration.plugins.modules import (
    cs_pool_info,
    cs_user_info,
    cs_user_move,
    cs_winevent_info,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.journal import read_journal

from module_runner import run_module
from playbook_runner import run_playbook

lync_lab = pytest.importorskip("lync_lab")

PASSWORD = "Lab-Passw0rd!"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A lab of its own on free ports (lync_lab.instance.LabInstance: every server of the scenario moves by one
    offset), so it never collides with another lab."""
    from lync_lab.instance import LabInstance

    root = tmp_path_factory.mktemp("lab")
    with LabInstance(root / "state", stage=6, log=root / "lab.log") as instance:
        yield {"port": instance.http_port, "state": instance.state_dir, "root": root}


def connection(lab):
    return {"server": "127.0.0.1", "port": lab["port"], "scheme": "http", "username": "CONTOSO\\lyncadmin",
            "password": PASSWORD}


def audit_moves(lab):
    import json
    path = lab["state"] / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if '"Move-' in line]


def test_pool_info_sees_the_legacy_and_pilot_pools(lab, monkeypatch):
    out = run_module(cs_pool_info, {}, None, monkeypatch=monkeypatch, connection=connection(lab))
    pools = dict((p["fqdn"], p) for p in out["pools"])
    assert pools["pool01.contoso.net"]["legacy"] and pools["pool01.contoso.net"]["registrar"]
    assert pools["pool02.contoso.net"]["registrar"] and not pools["pool02.contoso.net"]["legacy"]
    assert not pools["lync-sql01.contoso.net"]["registrar"]


def test_user_info_reports_malformed_and_missing_users(lab, monkeypatch):
    out = run_module(cs_user_info, {"identities": ["David Pelton", "Ken Myer ", "Nobody Here"]}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert [(u["identity"], u["registrar_pool"], u["legacy"]) for u in out["users"]] == \
        [("David Pelton", "pool01.contoso.net", True)]
    assert out["not_found"] == ["Nobody Here"]
    assert [m["identity"] for m in out["malformed"]] == ["Ken Myer "]


def test_replicator_event_30024_is_found(lab, monkeypatch):
    out = run_module(cs_winevent_info, {"log_name": "Lync Server", "provider_name": "LS User Replicator",
                                        "event_id": [30024], "max_events": 1}, None,
                     monkeypatch=monkeypatch, connection=connection(lab))
    assert out["count"] == 1 and out["events"][0]["id"] == 30024


def test_move_plan_then_move_then_rollback(lab, monkeypatch, tmp_path):
    args = {"identities": ["David Pelton", "sip:hao.chen@contoso.net"], "target_pool": "pool02.contoso.net",
            "batch_size": 1, "parallelism": 2}
    plan = run_module(cs_user_move, args, None, check_mode=True, monkeypatch=monkeypatch,
                      connection=connection(lab))
    assert [r["outcome"] for r in plan["results"]] == ["would_move", "would_move"]
    assert audit_moves(lab) == []

    journal = tmp_path / "moves.jsonl"
    moved = run_module(cs_user_move, dict(args, journal=str(journal)), None, monkeypatch=monkeypatch,
                       connection=connection(lab))
    assert not moved.get("failed"), moved.get("msg")
    assert [(r["outcome"], r["cmdlet"]) for r in moved["results"]] == [("moved", "Move-CsLegacyUser")] * 2
    # Write-ahead: each user's move is journalled as sent before its outcome.
    lines = read_journal(str(journal))
    for name in ("David Pelton", "sip:hao.chen@contoso.net"):
        assert [e["outcome"] for e in lines if e["identity"] == name] == ["sent", "moved"]
    info = run_module(cs_user_info, {"identities": ["David Pelton"]}, None, monkeypatch=monkeypatch,
                      connection=connection(lab))
    assert info["users"][0]["registrar_pool"] == "pool02.contoso.net" and not info["users"][0]["legacy"]

    again = run_module(cs_user_move, args, None, monkeypatch=monkeypatch, connection=connection(lab))
    assert again["changed"] is False and again["summary"]["unchanged"] == 2

    back = run_module(cs_user_move, {"identities": ["David Pelton"], "target_pool": "pool01.contoso.net"}, None,
                      monkeypatch=monkeypatch, connection=connection(lab))
    assert not back.get("failed"), back.get("msg")
    assert back["results"][0]["cmdlet"] == "Move-CsUser" and back["results"][0]["outcome"] == "moved"


def test_a_name_with_a_trailing_space_fails_the_task_before_any_move(lab, monkeypatch):
    before = len(audit_moves(lab))
    out = run_module(cs_user_move, {"identities": ["Katie Jordan", "Ken Myer "], "target_pool": "pool02.contoso.net"},
                     None, monkeypatch=monkeypatch, connection=connection(lab))
    assert out["failed"] and "Ken Myer " in out["msg"] and "trailing whitespace" in out["msg"]
    assert len(audit_moves(lab)) == before


def test_playbook_task_on_the_inventory_host_reaches_the_lab(lab, tmp_path):
    inventory = """
all:
  hosts:
    lync-fe01:
      ansible_host: 127.0.0.1
      ansible_port: %d
      ansible_connection: winrm
      ansible_user: CONTOSO\\lyncadmin
      ansible_password: %s
      ansible_winrm_scheme: http
      ansible_winrm_transport: ntlm
""" % (lab["port"], PASSWORD)
    playbook = """
- hosts: lync-fe01
  gather_facts: false
  tasks:
    - lync.migration.cs_user_info:
        legacy_only: true
      register: legacy
    - ansible.builtin.assert:
        that:
          - legacy.count > 10
          - legacy.users | map(attribute='legacy') | unique == [true]
"""
    output = run_playbook(tmp_path, inventory, playbook, "-vvvv")
    assert "failed=0" in output, output[-3000:]
    assert PASSWORD not in output


def test_a_wildcard_identity_is_refused_before_any_move_where_lync_would_move_every_match(lab, monkeypatch):
    """Move-CsLegacyUser -Identity "*Chen*" moves every user whose display name matches (Move-CsLegacyUser.md,
    -Identity, and the lab does so). A wave that names users that way would move people nobody listed: the
    module resolves each identity first and refuses one that names several users, so nothing moves."""
    before = len(audit_moves(lab))
    out = run_module(cs_user_move, {"identities": ["*Chen*"], "target_pool": "pool02.contoso.net"},
                     None, monkeypatch=monkeypatch, connection=connection(lab))
    assert out["failed"] and "*Chen*" in out["msg"] and "ambiguous" in out["msg"]
    assert len(audit_moves(lab)) == before
