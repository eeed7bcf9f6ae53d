"""`make demo`: rehearse the migration against the lab and print where the report is.

Starts the lab (contoso-small) at the first phase that has a playbook, runs each phase playbook in order with
the lab inventory, and stops the lab at the end whatever happened.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"

# (stage the lab starts at, playbooks run in order). The phases that have playbooks run in one go.
PLAYBOOKS = [
    "playbooks/phase6-move-users.yml",
]
START_STAGE = 6


def run(cmd: list[str], **kw) -> int:
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT, **kw)


def main() -> int:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", ANSIBLE_FORCE_COLOR="0")
    if run(["make", "--no-print-directory", "lab", f"STAGE={START_STAGE}", "SCENARIO=contoso-small"], env=env):
        return 1
    started = time.monotonic()
    try:
        for playbook in PLAYBOOKS:
            rc = run([str(BIN / "ansible-playbook"), "-i", "inventories/lab", playbook], env=env)
            if rc:
                print(f"demo: {playbook} failed (exit {rc}); the lab's audit log is .lab/audit.jsonl", file=sys.stderr)
                return rc
    finally:
        run(["make", "--no-print-directory", "lab-stop"], env=env)
    print(f"demo: finished in {time.monotonic() - started:.1f} s; reports are under {ROOT / 'reports'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
