"""What tests/dist shares: where the artifacts are, their versions, a clean environment for ansible commands.

`make dist` builds dist/lync-migration-<version>.tar.gz and dist/lync_lab-<version>-py3-none-any.whl (LYNC_DIST_DIR
names another directory). A module name of its own, not conftest, so tests/dist runs in one pytest with the other
suites (whose test modules import their own conftest).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DIST_DIR = Path(os.environ.get("LYNC_DIST_DIR") or REPO / "dist")


def galaxy_version() -> str:
    return str(yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["version"])


def lab_version() -> str:
    text = (REPO / "lab" / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


def artifact(name: str) -> Path:
    path = DIST_DIR / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make dist` (or `make dist-test`, which builds it first)")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any ANSIBLE_* setting (a developer's shell may point at the repository),
    with ``extra`` added and the repository's .venv first on PATH (ansible-playbook and the Python it runs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.update(extra)
    return env
