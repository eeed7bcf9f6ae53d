"""The rehearsal lab as a user installs it (docs/rehearsal.md): the wheel `make dist` builds, installed with pip into
a fresh virtual environment outside the repository with the dependencies its metadata declares, and `lync-lab serve`
from that environment answering a WinRM client.

The WinRM answer checked is Get-CsUser's RegistrarPool for a user the contoso-small scenario homes on the legacy pool
at stage 6; what the lab does there is tested in lab/tests, this only proves the installed copy is the whole lab.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from dist_support import REPO, clean_env
from lync_lab.instance import ADMIN_HTTP_PORT, ADMIN_HTTPS_PORT, DNS_PORT, LISTENING, choose_port_offset, scenario_ports

LAB_USER = "CONTOSO\\lyncadmin"
LAB_PASSWORD = "Lab-Passw0rd!"      # the lab's administrator; a lab, so the password is public (README.md)


def test_wheel_carries_the_package_its_data_and_the_command(lab_wheel):
    with zipfile.ZipFile(lab_wheel) as wheel:
        names = set(wheel.namelist())
        meta_dir = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(f"{meta_dir}/METADATA").decode("utf-8")
        entry_points = wheel.read(f"{meta_dir}/entry_points.txt").decode("utf-8")
    # The scenarios and Microsoft's cmdlet syntax the lab validates every call against ship as package data.
    assert {"lync_lab/cli.py", "lync_lab/scenarios/contoso-small.yml", "lync_lab/data/lync2013-cmdlets.json"} <= names
    assert not any(n.startswith(("tests/", "lab/")) or "__pycache__" in n for n in names)
    # Exactly the package's modules in the checkout (tracked or new): none left out, none left over from a build.
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", "lync_lab"], cwd=REPO / "lab",
                             capture_output=True, text=True, check=True).stdout.split()
    assert tracked, "git ls-files found nothing: not a checkout?"
    wheel_modules = {n for n in names if n.endswith(".py")}
    tracked_modules = {t for t in tracked if t.endswith(".py")}     # relative to lab/, as in the wheel
    assert wheel_modules == tracked_modules, (sorted(wheel_modules - tracked_modules),
                                              sorted(tracked_modules - wheel_modules))
    assert "lync-lab = lync_lab.cli:main" in entry_points
    requires = sorted(line.split(":", 1)[1].strip() for line in metadata.splitlines()
                      if line.startswith("Requires-Dist:"))
    # Every dependency bounded above as well as below, so a later incompatible release is not picked up.
    assert requires and all(">=" in r and "<" in r for r in requires), requires


@pytest.fixture(scope="module")
def lab_venv(lab_wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment (no system or repository packages) with the wheel installed from PyPI's deps."""
    venv = tmp_path_factory.mktemp("lab-user") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", str(lab_wheel)], cwd=venv.parent,
                          env=clean_env(PIP_REQUIRE_VIRTUALENV="1"), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return venv


def test_the_installed_package_is_the_one_in_the_fresh_environment(lab_venv):
    proc = subprocess.run([str(lab_venv / "bin" / "python"), "-c", "import lync_lab; print(lync_lab.__file__)"],
                          cwd=lab_venv.parent, capture_output=True, text=True, timeout=60, check=True)
    location = Path(proc.stdout.strip())
    assert lab_venv in location.parents and REPO not in location.parents, location
    check = subprocess.run([str(lab_venv / "bin" / "python"), "-m", "pip", "check"], capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


def test_lync_lab_serve_from_the_wheel_answers_winrm(lab_venv, tmp_path):
    import winrm

    offset = choose_port_offset(sorted(set(scenario_ports("contoso-small")) | {ADMIN_HTTP_PORT, ADMIN_HTTPS_PORT}),
                                [DNS_PORT])
    http_port = ADMIN_HTTP_PORT + offset
    log = tmp_path / "lab.log"
    cmd = [str(lab_venv / "bin" / "lync-lab"), "serve", "--scenario", "contoso-small", "--stage", "6",
           "--state-dir", str(tmp_path / "state"), "--http-port", str(http_port),
           "--https-port", str(ADMIN_HTTPS_PORT + offset), "--port-offset", str(offset),
           "--dns-port", str(DNS_PORT + offset)]
    with open(log, "w", encoding="utf-8") as out:
        server = subprocess.Popen(cmd, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while LISTENING not in log.read_text(encoding="utf-8"):
            assert server.poll() is None, "lync-lab exited %s:\n%s" % (server.returncode, log.read_text("utf-8"))
            assert time.monotonic() < deadline, "lync-lab did not listen within 60 s:\n" + log.read_text("utf-8")
            time.sleep(0.1)
        session = winrm.Session(f"http://127.0.0.1:{http_port}/wsman", auth=(LAB_USER, LAB_PASSWORD),
                                transport="ntlm", message_encryption="always")
        r = session.run_ps("Get-CsUser -Identity 'David Pelton' | Select-Object RegistrarPool | ConvertTo-Json")
        assert r.status_code == 0, r.std_err.decode("utf-8", "replace")
        assert json.loads(r.std_out.decode("utf-8"))["RegistrarPool"] == "pool01.contoso.net"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
