"""Secrets: with -vvvv, ANSIBLE_DEBUG=1, --diff, on failures and in check mode, the password appears in none of
stdout/stderr, the reports, the journal, ansible-runner's artifacts. The password is really used in the cmdlet
calls (cmdlet_credential against a lab with the double-hop restriction), so there is something to leak."""

import base64
import json
import subprocess

import pytest
import yaml
from harness import (LAB_INVENTORY, LAB_PASSWORD, REPO, VENV_BIN, LabInstance, collections_root, playbook_env,
                     run_playbook, score)

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group('test_secrets')


def secret_forms(secret: str) -> list[bytes]:
    """The password as it could leak: plain, JSON-escaped, UTF-16LE, and base64 of its UTF-8 and UTF-16LE
    bytes at any alignment (the envelope sends the request base64-encoded)."""
    forms = {secret.encode(), json.dumps(secret)[1:-1].encode(), secret.encode("utf-16-le")}
    for raw in (secret.encode(), secret.encode("utf-16-le")):
        for pad in range(3):
            encoded = base64.b64encode(b"\0" * pad + raw)
            # Drop the characters that depend on the neighbouring bytes.
            inner = encoded[4 if pad else 0:-4]
            if len(inner) >= 8:
                forms.add(inner)
    return sorted(forms)


def find_leaks(blobs: dict[str, bytes], secret: str) -> list[str]:
    forms = secret_forms(secret)
    return sorted(name for name, data in blobs.items() if any(f in data for f in forms))


def test_secret_forms_find_the_password_inside_a_base64_request():
    request = base64.b64encode(json.dumps({"credential": {"password": LAB_PASSWORD}}).encode())
    assert find_leaks({"request": request}, LAB_PASSWORD) == ["request"]
    assert find_leaks({"request": base64.b64encode(b"nothing here")}, LAB_PASSWORD) == []


WRAPPER = [{
    "name": "Phase 6 with -Credential on every cmdlet (the double hop over NTLM)",
    "hosts": "lync_admin[0]",
    "gather_facts": False,
    "module_defaults": {"group/lync.migration.lync": {"cmdlet_credential": True}},
    "roles": [{"role": "lync.migration.move_users"}],
}]


def run_secret_matrix(tmp, full):
    """The fast set: one move with -vvvv --diff and the double-hop failure. ``full`` (make reliability) adds
    ANSIBLE_DEBUG=1, check mode, a gate failure and ansible-runner."""
    with LabInstance(tmp / "lab", scenario="contoso-small", stage=6, double_hop=True) as lab:
        inventory = lab.write_inventory(LAB_INVENTORY, tmp / "inventory")
        book = tmp / "phase6-credential.yml"
        book.write_text(yaml.safe_dump(WRAPPER, sort_keys=False), encoding="utf-8")
        env = playbook_env(collections_root(tmp / "collections"))
        # ANSIBLE_DEBUG=1 prints everything Ansible does (and is slow): on for the runs that send the password.
        debug_env = dict(env, ANSIBLE_DEBUG="1")
        dirs = {"move_users_journal_dir": str(tmp / "journal"), "move_users_report_dir": str(tmp / "reports")}
        base = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory)]
        runs = {}
        if full:
            runs["check-diff"] = run_playbook(base + [str(book), "-vvvv", "--check", "--diff", "-e", json.dumps(dirs)], debug_env)
        runs["move-diff"] = run_playbook(base + [str(book), "-vvvv", "--diff", "-e", json.dumps(dirs)],
                                         debug_env if full else env)
        if full:
            failing = dict(dirs, lync_migration_pilot_pool="pool77.contoso.net")
            runs["gate-failure"] = run_playbook(base + [str(book), "-vvvv", "-e", json.dumps(failing)], env)
        # Without -Credential the double hop fails inside the cmdlets: an error path with the password in play.
        runs["double-hop-failure"] = run_playbook(
            base + [str(REPO / "playbooks" / "phase6-move-users.yml"), "-vvvv", "-e", json.dumps(dirs)], env)
        runner_dir = tmp / "runner"
        runner = None if not full else subprocess.run(
            [str(VENV_BIN / "ansible-runner"), "run", str(runner_dir), "-p", str(book),
             "--inventory", str(inventory / "hosts.yml"),
             "--cmdline=-vvvv --diff -e " + json.dumps(json.dumps(dirs)), "--rotate-artifacts", "0"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        yield dict(lab=lab, runs=runs, tmp=tmp, runner=runner, full=full)


@pytest.fixture(scope="module")
def secret_runs(tmp_path_factory):
    yield from run_secret_matrix(tmp_path_factory.mktemp("secrets"), full=False)


def test_the_runs_did_what_they_should(secret_runs):
    runs = secret_runs["runs"]
    assert runs["move-diff"].rc == 0, runs["move-diff"].output[-3000:]
    if secret_runs["full"]:
        assert runs["check-diff"].rc == 0, runs["check-diff"].output[-3000:]
        assert runs["gate-failure"].rc != 0 and "pool77.contoso.net" in runs["gate-failure"].output
    assert runs["double-hop-failure"].rc != 0
    # The password was really sent: the lab saw -Credential on the cmdlets (its value redacted in the audit).
    assert any("Credential" in (e.get("params") or {}) for e in secret_runs["lab"].audit())


def test_password_appears_nowhere(secret_runs):
    blobs = {}
    for name, run in secret_runs["runs"].items():
        blobs[name + " stdout"] = run.stdout.encode()
        blobs[name + " stderr"] = run.stderr.encode()
    if secret_runs["runner"] is not None:
        blobs["ansible-runner stdout"] = secret_runs["runner"].stdout.encode()
    files = []
    for folder in ("reports", "journal", "runner"):
        files += [p for p in (secret_runs["tmp"] / folder).rglob("*") if p.is_file()]
    for path in files:
        blobs[str(path.relative_to(secret_runs["tmp"]))] = path.read_bytes()
    blobs["lab audit"] = secret_runs["lab"].audit_path.read_bytes()
    if secret_runs["runner"] is not None:
        assert any("artifacts" in p.parts for p in files), "ansible-runner wrote no artifacts:\n" + \
            secret_runs["runner"].stdout[-2000:] + secret_runs["runner"].stderr[-2000:]
    leaks = find_leaks(blobs, LAB_PASSWORD)
    score("secrets (full)" if secret_runs["full"] else "secrets (fast)", len(secret_runs["runs"]) + 1, 0, lost=0, duplicated=0, leaked=len(leaks),
          unexpected_changes=0)
    assert leaks == [], "the password leaked into: %s" % leaks


def test_double_hop_failure_explains_the_double_hop_and_the_transports_that_avoid_it(secret_runs):
    output = secret_runs["runs"]["double-hop-failure"].output
    assert "double hop" in output.lower() or "double-hop" in output.lower(), output[-3000:]
    assert "credssp" in output.lower() and "kerberos" in output.lower() and "cmdlet_credential" in output
