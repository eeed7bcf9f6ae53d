"""Phase 6 against the lab: plan, move, rerun, rollback, the preflight gate, the reports and secrecy.

The tests share one lab and run in file order: check mode, move, rerun, reports, rollback. Users' homes are
read back with plain pywinrm (Get-CsUser), never through the collection.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess

import pytest

from conftest import LAB_PASSWORD, VENV_BIN, latest_report

LEGACY_POOL = "pool01.contoso.net"
PILOT_POOL = "pool02.contoso.net"
TEST_WAVE = ["David Pelton", "Hao Chen"]
PILOT_WAVE = ["Katie Jordan", "Sara Davis", "Chen Yang", "Claus Hansen", "Patrick O'Brien", "José Álvarez",
              "Björn Sørensen", "Ana Trujillo"]
ALREADY_ON_PILOT = "Ana Trujillo"
WAVE_USERS = TEST_WAVE + PILOT_WAVE
MOVING = [u for u in WAVE_USERS if u != ALREADY_ON_PILOT]
SIP = {"David Pelton": "sip:david.pelton@contoso.net", "Hao Chen": "sip:hao.chen@contoso.net",
       "Katie Jordan": "sip:katie.jordan@contoso.net", "Sara Davis": "sip:sara.davis@contoso.net",
       "Chen Yang": "sip:chen.yang@contoso.net", "Claus Hansen": "sip:claus.hansen@contoso.net",
       "Patrick O'Brien": "sip:patrick.obrien@contoso.net", "José Álvarez": "sip:jose.alvarez@contoso.net",
       "Björn Sørensen": "sip:bjorn.sorensen@contoso.net"}


def plan_line(output: str, user: str) -> str:
    """The console line the role prints for ``user`` (``identity <sip>: from -> to: outcome``).

    The YAML callback folds long strings onto indented continuation lines; they are joined back first.
    """
    unfolded = re.sub(r"\n\s{6,}(?=\S)", " ", output).replace("''", "'")
    lines = [ln for ln in unfolded.splitlines() if (user + " <sip:") in ln and "->" in ln]
    assert lines, "no plan line for %r in the output:\n%s" % (user, output)
    return lines[-1]


def read_report(directory):
    report = json.loads((directory / "report.json").read_text(encoding="utf-8"))
    raw = (directory / "users.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    return report, rows, (directory / "report.html").read_text(encoding="utf-8")


def test_check_mode_lists_the_plan_and_changes_nothing(lab, playbook, lab_shell):
    audit_before = len(lab.audit())
    run = playbook("phase6-move-users.yml", "--check", "--diff", "-vvv")
    assert run.rc == 0, run.output
    assert lab.move_calls(since=audit_before) == [], "check mode called a Move- cmdlet"
    for user in MOVING:
        line = plan_line(run.stdout, user)
        assert "%s -> %s: would_move" % (LEGACY_POOL, PILOT_POOL) in line, line
    assert "%s -> %s: unchanged" % (PILOT_POOL, PILOT_POOL) in plan_line(run.stdout, ALREADY_ON_PILOT)
    for user in MOVING:
        assert lab_shell(user) == LEGACY_POOL
    report, rows, _ = read_report(latest_report(playbook.dirs["reports"]))
    assert report["check_mode"] is True
    assert report["totals"]["would_move"] == len(MOVING)
    assert report["totals"]["unchanged"] == 1
    assert report["totals"]["moved"] == 0


def test_move_puts_every_wave_user_on_the_pilot_pool(lab, playbook, lab_shell):
    run = playbook("phase6-move-users.yml", "--diff")
    assert run.rc == 0, run.output
    for user in WAVE_USERS:
        assert lab_shell(user) == PILOT_POOL, user
    moves = lab.move_calls()
    assert {c["cmdlet"] for c in moves} == {"Move-CsLegacyUser"}
    # One Move-CsLegacyUser per moving user, none for the user already on the pilot pool.
    assert sorted(c["params"]["Identity"].lower() for c in moves) == sorted(SIP[u] for u in MOVING)
    # Users outside the waves stay where they were.
    assert lab_shell("Ken Myer ") == LEGACY_POOL
    report, rows, page = read_report(latest_report(playbook.dirs["reports"]))
    assert report["check_mode"] is False and report["status"] == "succeeded"
    assert report["totals"] == {"total": 10, "moved": 9, "unchanged": 1, "would_move": 0, "failed": 0, "skipped": 0}
    assert [w["name"] for w in report["waves"]] == ["test", "pilot"]
    by_identity = {r["identity"]: r for r in rows}
    assert set(by_identity) == set(WAVE_USERS)
    assert by_identity["José Álvarez"]["from"] == LEGACY_POOL and by_identity["José Álvarez"]["to"] == PILOT_POOL
    assert by_identity["David Pelton"]["outcome"] == "moved"
    assert by_identity[ALREADY_ON_PILOT]["outcome"] == "unchanged"
    assert list(rows[0].keys()) == ["identity", "sip_address", "from", "to", "outcome", "error", "attempts"]
    # The common report's tables: the users (from report.json's users, one row each, classed by outcome) and the waves.
    assert report["title"] == "Phase 6 - move the test and pilot users"
    assert "<th>SIP address</th>" in page and page.count('<tr class="moved">') == 9
    assert page.count('<tr class="unchanged">') == 1 and "<h2>Waves</h2>" in page
    # Names are escaped in the page, not pasted as markup.
    assert "Patrick O'Brien" not in page
    assert "Patrick O'Brien" in html.unescape(page)
    assert "Björn Sørensen" in page
    # The conferencing policy check of P8.2 ran on the moved users' policies.
    assert report["conferencing_policies"], "no conferencing policy was checked"
    assert all("allow_anonymous_participants_in_meetings" in p for p in report["conferencing_policies"])
    assert "Report: " in run.stdout and "Totals: " in run.stdout


def test_second_run_changes_nothing(lab, playbook):
    audit_before = len(lab.audit())
    run = playbook("phase6-move-users.yml")
    assert run.rc == 0, run.output
    assert run.recap()["changed"] == 0, run.stdout
    assert lab.move_calls(since=audit_before) == []
    report, _, _ = read_report(latest_report(playbook.dirs["reports"]))
    assert report["totals"]["unchanged"] == 10 and report["totals"]["moved"] == 0


def test_rollback_puts_the_moved_users_back_on_the_legacy_pool(lab, playbook, lab_shell):
    check = playbook("rollback-users.yml", "--check", "--diff")
    assert check.rc == 0, check.output
    for user in MOVING:
        assert "%s -> %s: would_move" % (PILOT_POOL, LEGACY_POOL) in plan_line(check.stdout, user)
        assert lab_shell(user) == PILOT_POOL
    # What the rollback costs is said before anyone moves, in check mode too (Move-CsUser's reference).
    assert "must be rescheduled" in check.stdout
    check_report, _, check_page = read_report(latest_report(playbook.dirs["reports"], "rollback"))
    assert any("rescheduled" in line for line in check_report["rollback_cost"])
    # The common report (migration_common) shows the cost as a section of its own, each line a bullet.
    assert "<h2>What this rollback costs the users</h2>" in check_page
    assert all("<li>%s</li>" % html.escape(line, quote=True).replace("&#x27;", "&#39;") in check_page
               for line in check_report["rollback_cost"])
    # During the pilot the moved users scheduled meetings on Lync; the rollback loses exactly those.
    scheduled = subprocess.run([str(VENV_BIN / "lync-lab"), "perform", "schedule-lync-meetings", "--server", PILOT_POOL,
                                "--state-dir", str(lab.state_dir)], capture_output=True, text=True, check=True)
    assert json.loads(scheduled.stdout)["changed"]
    lync_meetings = {k for k, c in lab.dump_state()["conference"].items() if c.get("origin") == "lync"}
    audit_before = len(lab.audit())
    run = playbook("rollback-users.yml")
    assert run.rc == 0, run.output
    assert run.stdout.index("costs them") < run.stdout.index("TASK [lync.migration.move_users : Move")
    assert all(call["params"].get("Confirm") is False for call in lab.move_calls(since=audit_before))
    state = lab.dump_state()
    lost = state.get("lost_data", {})
    # Every meeting the rolled-back users scheduled on Lync is lost, and only those: Ana Trujillo stays on Lync.
    assert lost and set(lost) <= lync_meetings and all(d["Origin"] == "lync" for d in lost.values())
    assert set(lost) == lync_meetings - set(state["conference"])
    for user in MOVING:
        assert lab_shell(user) == LEGACY_POOL, user
    # Ana Trujillo was on the pilot pool before Phase 6; the journal never recorded her as moved.
    assert lab_shell(ALREADY_ON_PILOT) == PILOT_POOL
    report, _, _ = read_report(latest_report(playbook.dirs["reports"], "rollback"))
    assert report["totals"]["moved"] == len(MOVING)


def test_a_name_with_a_trailing_space_fails_preflight_and_moves_nobody(lab, playbook, lab_shell):
    audit_before = len(lab.audit())
    waves = [{"name": "test", "identities": ["David Pelton", "Ken Myer "]}]
    run = playbook("phase6-move-users.yml", extra={"lync_migration_waves": waves})
    assert run.rc != 0
    # The common gate's words (migration_common gate.yml), as every phase says them.
    assert "Phase 6 preflight failed; nothing was changed" in run.stdout
    assert '"Ken Myer "' in run.stdout or "'Ken Myer '" in run.stdout
    assert "trailing" in run.stdout and "fix the account name in Active Directory" in re.sub(r"\s+", " ", run.stdout)
    assert lab.move_calls(since=audit_before) == []
    assert lab_shell("David Pelton") == LEGACY_POOL
    report, _, _ = read_report(latest_report(playbook.dirs["reports"]))
    assert report["status"] == "failed" and report["preflight_failures"]


def test_a_csv_wave_with_on_invalid_skip_moves_the_valid_users_and_reports_the_others(lab, playbook, lab_shell, tmp_path):
    # Rolled back above, so Claus Hansen is on the legacy pool again.
    assert lab_shell("Claus Hansen") == LEGACY_POOL
    wave = tmp_path / "wave.csv"
    wave.write_bytes("identity,note\r\nClaus Hansen,\r\nKen Myer ,trailing space\r\n".encode("utf-8"))
    run = playbook("phase6-move-users.yml", extra={
        "lync_migration_waves": [{"name": "csv-wave", "csv": str(wave)}], "move_users_on_invalid": "skip"})
    assert run.rc == 0, run.output
    assert lab_shell("Claus Hansen") == PILOT_POOL
    assert lab_shell("Ken Myer ") == LEGACY_POOL
    report, rows, _ = read_report(latest_report(playbook.dirs["reports"]))
    assert report["totals"]["moved"] == 1 and report["totals"]["skipped"] == 1
    skipped = [r for r in rows if r["outcome"] == "skipped"]
    assert [r["identity"] for r in skipped] == ["Ken Myer "]
    assert "trailing" in skipped[0]["error"]


def test_a_csv_file_that_is_not_utf8_or_lacks_the_identity_column_stops_the_gate(lab, playbook, tmp_path):
    audit_before = len(lab.audit())
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("identity\r\nJosé Álvarez\r\n".encode("latin-1"))
    run = playbook("phase6-move-users.yml", extra={"lync_migration_waves": [{"name": "w", "csv": str(latin1)}]})
    assert run.rc != 0
    assert "latin1.csv is not UTF-8" in re.sub(r"\s+", " ", run.stdout)
    no_column = tmp_path / "names.csv"
    no_column.write_bytes("name\r\nHao Chen\r\n".encode("utf-8"))
    run = playbook("phase6-move-users.yml", extra={"lync_migration_waves": [{"name": "w", "csv": str(no_column)}]})
    assert run.rc != 0
    assert "has no 'identity' column" in re.sub(r"\s+", " ", run.stdout).replace("''", "'")
    assert lab.move_calls(since=audit_before) == []


def test_the_lab_password_appears_in_no_output_and_no_report(playbook):
    from conftest import ALL_OUTPUT

    assert ALL_OUTPUT, "no playbook ran"
    for output in ALL_OUTPUT:
        assert LAB_PASSWORD not in output
    files = [p for p in playbook.dirs["reports"].rglob("*") if p.is_file()]
    files += [p for p in playbook.dirs["journal"].rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert LAB_PASSWORD not in path.read_text(encoding="utf-8", errors="replace"), path
