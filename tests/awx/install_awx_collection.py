"""Install the awx.awx collection (the modules extensions/patterns/controller_setup/setup.yml uses) from PyPI.

Only PyPI is reachable from our machines and CI, not Galaxy, so the collection is taken from the `ansible`
community package, which ships it: the wheel is downloaded once (about 54 MB, no dependencies installed) and
only ansible_collections/awx/awx (about 1 MB) is extracted into the repository's collections path.

    python tests/awx/install_awx_collection.py            # -> .ansible/awx-collections/ansible_collections/awx/awx
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# ansible 12.3.0 is the newest release that installs on Python 3.11; it carries awx.awx 24.6.1.
ANSIBLE_PACKAGE = "ansible==12.3.0"
AWX_VERSION = "24.6.1"
DEFAULT_COLLECTIONS = REPO / ".ansible" / "awx-collections"
PREFIX = "ansible_collections/awx/awx/"


def installed_version(collections_path: Path) -> str | None:
    manifest = collections_path / "ansible_collections" / "awx" / "awx" / "MANIFEST.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text())["collection_info"]["version"]


def install(collections_path: Path = DEFAULT_COLLECTIONS, cache: Path | None = None) -> Path:
    """Make awx.awx AWX_VERSION available under ``collections_path``; return the collection's directory."""
    target = collections_path / "ansible_collections" / "awx" / "awx"
    if installed_version(collections_path) == AWX_VERSION:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        download_dir = cache or Path(tmp)
        wheels = sorted(download_dir.glob("ansible-12.3.0-*.whl"))
        if not wheels:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                            "--no-deps", "--only-binary=:all:", "-d", str(download_dir), ANSIBLE_PACKAGE], check=True)
            wheels = sorted(download_dir.glob("ansible-12.3.0-*.whl"))
        staging = Path(tmp) / "staging"
        with zipfile.ZipFile(wheels[0]) as wheel:
            members = [n for n in wheel.namelist() if n.startswith(PREFIX) and not n.endswith("/")]
            for name in members:
                wheel.extract(name, staging)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging / PREFIX), str(target))
    if installed_version(collections_path) != AWX_VERSION:
        raise RuntimeError("awx.awx %s was not installed at %s" % (AWX_VERSION, target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collections-path", type=Path, default=DEFAULT_COLLECTIONS)
    parser.add_argument("--cache", type=Path, help="directory that keeps the downloaded wheel between runs")
    args = parser.parse_args()
    print(install(args.collections_path, args.cache))


if __name__ == "__main__":
    main()
