"""Phase 6 run the way AWX runs a job: ansible-runner with a private data directory (env/extravars from the
survey, an inventory script holding the synced inventory, the project), job_type "check" as --check, and the
runner's artifacts (job events, stdout) checked afterwards, including that the lab password is in none of them.

Phase 6 runs against a lab at stage 6, Phase 1 (the read-only plan, first node of the workflow) against one at
stage 1; each lab listens on free ports of its own and the synced inventory points there."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import ansible_runner
import pytest

from conftest import LAB_PASSWORD, REPO, VENV_BIN, start_lab

PHASE1 = "playbooks/phase1-plan.yml"
PHASE6 = "playbooks/phase6-move-users.yml"
TEST_WAVE = ["David Pelton", "Hao Chen"]
LEGACY_POOL = "pool01.contoso.net"
PILOT_POOL = "pool02.contoso.net"


@pytest.fixture(scope="module")
def exported_inventory(ansible_env) -> dict:
    """What the controller's inventory sync stores: ansible-inventory --list --export of inventories/lab, vault
    opened (the sync's credential), group_vars kept as group variables."""
    exported = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", "inventories/lab", "--list", "--export"],
                              cwd=REPO, env=ansible_env, capture_output=True, text=True, check=True).stdout
    return json.loads(exported)


@pytest.fixture(scope="module")
def sync_inventory(tmp_path_factory, exported_inventory):
    """The synced inventory served to the job as AWX does, an executable script printing it as JSON, with each
    host's ports those of the given lab (as a site's inventory names its own servers' ports)."""
    work = tmp_path_factory.mktemp("inventory")

    def write(lab) -> str:
        inventory = json.loads(json.dumps(exported_inventory))
        for hostvars in inventory["_meta"]["hostvars"].values():
            for key in ("ansible_port", "lab_https_port"):
                if key in hostvars:
                    hostvars[key] = lab.port_of(hostvars[key])
        script = work / ("hosts-%d" % lab.http)
        script.write_text("#!/bin/sh\ncat <<'INVENTORY_EOF'\n%s\nINVENTORY_EOF\n" % json.dumps(inventory))
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return str(script)

    return write


@pytest.fixture(scope="module")
def job(tmp_path_factory, sync_inventory, collections_path):
    """Launch a job template's playbook like AWX: survey answers in extravars, job_type check -> --check."""
    work = tmp_path_factory.mktemp("awx-jobs")

    def launch(playbook: str, survey: dict, job_type: str = "run", lab=None):
        pdd = work / ("job-%d" % len(list(work.glob("job-*"))))
        pdd.mkdir()
        extravars = {"move_users_journal_dir": str(work / "journal"), "move_users_report_dir": str(work / "reports"),
                     "lync_migration_report_dir": str(work / "reports")}
        extravars.update(survey)
        cmdline = "--diff" + (" --check" if job_type == "check" else "")
        runner = ansible_runner.run(
            private_data_dir=str(pdd), project_dir=str(REPO), playbook=playbook, inventory=sync_inventory(lab),
            extravars=extravars, cmdline=cmdline, quiet=True, timeout=600,
            envvars={"ANSIBLE_COLLECTIONS_PATH": collections_path, "PATH": "%s:%s" % (VENV_BIN, os.environ["PATH"]),
                     "ANSIBLE_NOCOLOR": "1"})
        return runner, pdd

    launch.reports = work / "reports"
    return launch


@pytest.fixture(scope="module")
def registrar_pool(lab):
    """Reads a user's home with plain pywinrm, as an admin would, not through the collection."""
    import winrm

    session = winrm.Session("http://127.0.0.1:%d/wsman" % lab.http, auth=("CONTOSO\\lyncadmin", LAB_PASSWORD),
                            transport="ntlm", message_encryption="always")

    def read(identity: str) -> str:
        literal = "'" + identity.replace("'", "''") + "'"
        r = session.run_ps("Get-CsUser -Identity %s | Select-Object RegistrarPool | ConvertTo-Json" % literal)
        assert r.status_code == 0, r.std_err.decode("utf-8", "replace")
        return json.loads(r.std_out.decode("utf-8"))["RegistrarPool"]

    return read


def events(runner) -> list[dict]:
    return list(runner.events)


def newest_run(reports_dir, label: str = "phase6"):
    runs = sorted((p for p in reports_dir.glob("*-" + label) if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    assert runs, "no %s report under %s" % (label, reports_dir)
    return runs[-1]


def newest_report(reports_dir, label: str = "phase6") -> dict:
    return json.loads((newest_run(reports_dir, label) / "report.json").read_text(encoding="utf-8"))


def assert_password_absent(pdd):
    """Greps every file of the job's artifacts (events, stdout, the command) for the lab password; set_stats data
    (the events' artifact_data, which the controller keeps as the job's artifacts) is among them."""
    artifacts = pdd / "artifacts"
    files = [p for p in artifacts.rglob("*") if p.is_file()]
    assert any(p.parent.name == "job_events" for p in files), "no job events written"
    leaked = [str(p) for p in files if LAB_PASSWORD.encode() in p.read_bytes()]
    assert leaked == [], "the lab password is in the job's artifacts"


def test_check_job_plans_the_wave_and_moves_nobody(lab, job, registrar_pool):
    before = len(lab.audit())
    runner, pdd = job(PHASE6, {"move_users_waves": ["test"], "move_users_batch_size": 1,
                               "move_users_parallelism": 2}, job_type="check", lab=lab)
    assert runner.status == "successful", runner.stdout.read()
    assert lab.move_calls(since=before) == []
    for user in TEST_WAVE:
        assert registrar_pool(user) == LEGACY_POOL
    stats = [e for e in events(runner) if e["event"] == "playbook_on_stats"]
    assert stats and stats[-1]["event_data"]["failures"] == {}
    report = newest_report(job.reports)
    assert report["check_mode"] is True and report["totals"]["would_move"] == 2
    assert_password_absent(pdd)


def test_run_job_moves_the_chosen_wave_and_leaves_evidence(lab, job, registrar_pool):
    runner, pdd = job(PHASE6, {"move_users_waves": ["test"], "move_users_batch_size": 1,
                               "move_users_parallelism": 2}, lab=lab)
    assert runner.status == "successful", runner.stdout.read()
    for user in TEST_WAVE:
        assert registrar_pool(user) == PILOT_POOL
    assert registrar_pool("Katie Jordan") == LEGACY_POOL  # the pilot wave was not chosen
    all_events = events(runner)
    changed = [e for e in all_events if e["event"] == "runner_on_ok" and e["event_data"]["res"].get("changed")]
    assert changed, "no task reported a change"
    assert all_events[-1]["event"] == "playbook_on_stats"
    report = newest_report(job.reports)
    assert report["status"] == "succeeded" and report["totals"]["moved"] == 2
    assert [w["name"] for w in report["waves"]] == ["test"]
    # The job's stdout (what the controller shows) carries the summary too.
    stdout = (pdd / "artifacts" / runner.config.ident / "stdout").read_text(encoding="utf-8")
    assert "PLAY RECAP" in stdout and "David Pelton" in stdout
    assert_password_absent(pdd)


@pytest.fixture(scope="module")
def plan_lab(tmp_path_factory):
    """contoso-small at stage 1 (before Phase 1), on ports of its own."""
    lab = start_lab(tmp_path_factory.mktemp("plan-lab-state"), 1, 38000 + (os.getpid() % 100) * 30)
    yield lab
    lab.stop()


def test_phase1_plan_job_reads_only_and_leaves_the_plan_report(plan_lab, job):
    """The workflow's first node: the read-only plan, launched as a plain run job (no survey, no approval)."""
    before = len(plan_lab.audit())
    runner, pdd = job(PHASE1, {}, lab=plan_lab)
    assert runner.status == "successful", runner.stdout.read()
    all_events = events(runner)
    stats = [e for e in all_events if e["event"] == "playbook_on_stats"]
    assert stats and stats[-1]["event_data"]["failures"] == {} and stats[-1]["event_data"]["changed"] == {}
    assert not [e for e in all_events if e["event"] == "runner_on_ok" and e["event_data"]["res"].get("changed")]
    # It read the live servers (OCS WMI on the legacy Front End) and changed none of them.
    calls = plan_lab.audit()[before:]
    assert any(c.get("cmdlet") == "Get-WmiObject" for c in calls)
    assert [c["cmdlet"] for c in calls if c.get("cmdlet") and c["cmdlet"].split("-")[0] not in ("Get", "Test")] == []
    run_dir = newest_run(job.reports, "phase1")
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "succeeded" and report["check_mode"] is False
    assert [p["pool"] for p in report["inventory"]["pools"]] == ["pool01.contoso.net"]
    assert sorted(o["n"] for o in report["legacy_objects"]) == list(range(1, 35))
    assert "Legacy objects and the phase that moves or retires each" in (run_dir / "report.html").read_text(
        encoding="utf-8")
    stdout = (pdd / "artifacts" / runner.config.ident / "stdout").read_text(encoding="utf-8")
    assert "PLAY RECAP" in stdout and "Phase 1" in stdout
    assert_password_absent(pdd)
