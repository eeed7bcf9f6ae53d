"""What every scenario's verify needs to look at the lab the way an administrator does: a WinRM session to a
server of the lab inventory (testinfra's winrm backend, NTLM, on the ports create.yml chose) and plain
PowerShell typed as an admin would, sent with `powershell -EncodedCommand`, results read through ConvertTo-Json.
Nothing of the collection is imported."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import testinfra
import yaml

PROJECT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[2]))
LAB_INVENTORY = PROJECT / "inventories" / "lab"
LEGACY_POOL = "pool01.contoso.net"
PILOT_POOL = "pool02.contoso.net"
LYNC_ADMIN = "lync-fe01.contoso.net"
OCS_FE = "ocs-fe01.contoso.net"


def instance() -> dict:
    """The running lab's ports and directories (shared/lab_instance.py)."""
    path = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "lab" / "instance.json"
    return json.loads(path.read_text(encoding="utf-8"))


def lab_password() -> str:
    """The lab admin's password, from the inventory's vault, as `ansible-vault view` shows it to a person."""
    text = subprocess.run(["ansible-vault", "view", "--vault-id", "lab@" + str(LAB_INVENTORY / ".vault-pass"),
                           str(LAB_INVENTORY / "group_vars" / "all" / "vault.yml")],
                          capture_output=True, text=True, check=True).stdout
    return yaml.safe_load(text)["vault_lync_admin_password"]


def windows_host(name: str = LYNC_ADMIN):
    """A server of the lab inventory, reached like any Windows host over WinRM (NTLM)."""
    user = quote("CONTOSO\\lyncadmin", safe="")
    port = instance()["hosts"][name]
    return testinfra.get_host("winrm://%s:%s@127.0.0.1:%d" % (user, quote(lab_password(), safe=""), port),
                              no_ssl=True)


def powershell(host, script: str):
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return host.run("powershell.exe -NoLogo -NoProfile -NonInteractive -EncodedCommand %s" % encoded)


def powershell_json(host, script: str) -> list:
    """Runs `script | ConvertTo-Json` and returns the objects as a list (ConvertTo-Json writes one object bare)."""
    result = powershell(host, script + " | ConvertTo-Json -Depth 4")
    assert result.rc == 0, result.stderr_bytes.decode("cp437", "replace")
    # testinfra opens its WinRM shell with code page 437, so the console output is cp437 (names like José).
    text = result.stdout_bytes.decode("cp437").strip()
    if not text:
        return []
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def powershell_lines(host, script: str) -> list:
    """The lines ``script`` writes, for a host whose PowerShell has no ConvertTo-Json (an OCS 2007 R2 server on
    Windows Server 2008 R2 runs PowerShell 2.0; ConvertTo-Json came with 3.0)."""
    result = powershell(host, script)
    assert result.rc == 0, result.stderr_bytes.decode("cp437", "replace")
    return [line for line in result.stdout_bytes.decode("cp437").splitlines() if line.strip()]


def quoted(value: str) -> str:
    """A PowerShell single-quoted literal of a test constant."""
    return "'" + value.replace("'", "''") + "'"


def newest_report(label: str) -> dict:
    """The phase's newest report.json under the scenario's report directory."""
    runs = sorted((p for p in Path(instance()["reports"]).glob("*-" + label + "*") if p.is_dir()),
                  key=lambda p: p.stat().st_mtime_ns)
    assert runs, "no %s report written" % label
    return json.loads((runs[-1] / "report.json").read_text(encoding="utf-8"))
