"""The audit log survives a lab killed between a call's commit and its audit line: the line commits with the
change and reaches audit.jsonl when the lab serves again, exactly once."""

from __future__ import annotations

import pytest

from lync_lab.config import LabConfig
from lync_lab.lab import Lab
from lync_lab.model.audit import AuditLog
from model_shell import Shell

FE = "lync-fe01.contoso.net"


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after the point where it is raised runs."""


def open_lab(state_dir, keep):
    return Lab(LabConfig(stage=6, state_dir=state_dir, keep_state=keep))


def close(lab):
    lab.store.close()
    lab.audit.close()


def moves_of(lab, identity):
    return [e for e in AuditLog(lab.audit.path).read()
            if e["cmdlet"] == "Move-CsLegacyUser" and e["params"].get("Identity") == identity]


@pytest.mark.parametrize("killed_after_append", [False, True], ids=["before-append", "after-append"])
def test_a_kill_between_commit_and_audit_line_loses_and_duplicates_no_line(tmp_path, monkeypatch,
                                                                           killed_after_append):
    lab = open_lab(tmp_path / "lab", keep=False)
    fe = Shell(lab, FE)
    fe("Get-CsUser", Identity="Adam Barr")

    def kill(store, entry):
        if killed_after_append:
            lab.audit._append(entry)     # the line reached the file; the pending row was not yet removed
        raise Killed()

    monkeypatch.setattr(lab.audit, "confirm", kill)
    with pytest.raises(Killed):
        fe("Move-CsLegacyUser", Identity="Adam Barr", Target="pool02.contoso.net")
    assert len(moves_of(lab, "Adam Barr")) == (1 if killed_after_append else 0)
    close(lab)

    restarted = open_lab(tmp_path / "lab", keep=True)       # lync-lab serve --keep
    try:
        # recovered as the lab starts, before any call: a reader of audit.jsonl never sees the move missing
        assert len(moves_of(restarted, "Adam Barr")) == 1
        fe = Shell(restarted, FE)
        assert fe("Get-CsUser", Identity="Adam Barr")[0]["RegistrarPool"] == "pool02.contoso.net"
        [line] = moves_of(restarted, "Adam Barr")
        assert line["outcome"] == "ok" and line["server"] == FE
        entries = restarted.audit.read()
        assert [e["cmdlet"] for e in entries] == ["Get-CsUser", "Move-CsLegacyUser", "Get-CsUser"]
    finally:
        close(restarted)


def test_a_fresh_lab_does_not_inherit_lines_pending_from_the_old_history(tmp_path, monkeypatch):
    lab = open_lab(tmp_path / "lab", keep=False)
    monkeypatch.setattr(lab.audit, "confirm", lambda store, entry: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        Shell(lab, FE)("Move-CsLegacyUser", Identity="Adam Barr", Target="pool02.contoso.net")
    close(lab)
    fresh = open_lab(tmp_path / "lab", keep=False)          # reseeded: a new history, a new audit log
    try:
        Shell(fresh, FE)("Get-CsUser", Identity="Adam Barr")
        assert [e["cmdlet"] for e in fresh.audit.read()] == ["Get-CsUser"]
    finally:
        close(fresh)


def test_every_line_has_its_own_id_and_failed_calls_are_logged_after_rollback(tmp_path):
    lab = open_lab(tmp_path / "lab", keep=False)
    try:
        fe = Shell(lab, FE)
        fe("Move-CsLegacyUser", Identity="Adam Barr", Target="pool02.contoso.net")
        fe.fails("Move-CsLegacyUser", Identity="Nobody At All", Target="pool02.contoso.net")
        entries = lab.audit.read()
        assert [(e["cmdlet"], e["outcome"]) for e in entries] == [("Move-CsLegacyUser", "ok"),
                                                                  ("Move-CsLegacyUser", "error")]
        assert len({e["id"] for e in entries}) == 2
        with lab.store.transaction(write=False) as tx:
            assert tx._conn.execute("SELECT COUNT(*) FROM audit_pending").fetchone()[0] == 0
    finally:
        close(lab)
