"""The shared guided-step mechanism (roles/migration_common) on the controller alone: confirmation, refusal,
check mode, evidence and the recorded report."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from phase_lab import REPO, VENV_BIN

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - block:
        - ansible.builtin.include_role: {name: lync.migration.migration_common, tasks_from: start}
          vars: {migration_common_run_label: mechtest}
        - ansible.builtin.include_role: {name: lync.migration.migration_common, tasks_from: guided_step}
          vars:
            migration_common_step:
              id: P2.3-bpa
              title: Run the BPA
              phase: Phase 2
              checklist: ["Run it against <pool01.contoso.net>"]
              evidence: [{check: "BPA report present", ok: "{{ evidence_ok | default(true) | bool }}", detail: "bpa.xml"}]
        - ansible.builtin.set_fact: {st: succeeded}
      rescue:
        - ansible.builtin.set_fact: {st: failed, fl: "{{ ansible_failed_result.msg }}"}
      always:
        - ansible.builtin.include_role: {name: lync.migration.migration_common, tasks_from: report}
          vars:
            migration_common_report_title: "Mechanism <test>"
            migration_common_report_status: "{{ st }}"
            migration_common_report_failure: "{{ fl | default(none) }}"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("mech")
    link = root / "collections" / "ansible_collections" / "lync" / "migration"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    (root / "play.yml").write_text(PLAY)

    def go(name, *args, extra=None):
        reports = root / name
        extra = dict(extra or {}, lync_migration_report_dir=str(reports), lync_migration_prompt_for_confirmation=False)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(root / "collections"), ANSIBLE_NOCOLOR="1")
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(root / "play.yml"), "-e", json.dumps(extra), *args],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        report_dir = next(reports.iterdir())
        return proc, json.loads((report_dir / "report.json").read_text()), (report_dir / "report.html").read_text()
    return go


def test_unconfirmed_step_stops_and_says_how_to_confirm(run):
    proc, report, _html = run("unconfirmed")
    assert report["status"] == "failed"
    assert "P2.3-bpa" in report["failure"] and "lync_migration_confirmed_steps" in report["failure"]
    assert report["guided_steps"][0]["status"] == "not_confirmed"


def test_confirmation_is_recorded_with_who(run):
    proc, report, html = run("confirmed", extra={"lync_migration_confirmed_steps": [
        {"step": "P2.3-bpa", "by": "J. Smith", "note": "CHG0042"}]})
    assert report["status"] == "succeeded", proc.stdout
    step = report["guided_steps"][0]
    assert (step["status"], step["confirmed_by"], step["note"]) == ("confirmed", "J. Smith", "CHG0042")
    assert step["confirmed_at"] and step["evidence"][0]["ok"] is True
    assert "&lt;pool01.contoso.net&gt;" in html and "<pool01" not in html


def test_evidence_contradicting_a_confirmation_fails(run):
    _proc, report, _html = run("contradicted", extra={"lync_migration_confirmed_steps": ["P2.3-bpa"], "evidence_ok": False})
    assert report["status"] == "failed"
    assert report["guided_steps"][0]["status"] == "evidence_failed"


def test_check_mode_records_the_step_without_stopping(run):
    _proc, report, _html = run("check", "--check")
    assert report["status"] == "succeeded" and report["check_mode"] is True
    assert report["guided_steps"][0]["status"] == "awaiting_confirmation"
