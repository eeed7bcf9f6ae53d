"""Run a small playbook and inventory with this working tree as lync.migration (tests only)."""

import os
import subprocess
import sys

import collection_root


def run_playbook(tmp_path, inventory, playbook, *extra):
    (tmp_path / "inv.yml").write_text(inventory)
    (tmp_path / "pb.yml").write_text(playbook)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collection_root.COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([ansible, "-i", str(tmp_path / "inv.yml"), str(tmp_path / "pb.yml")] + list(extra),
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    return proc.stdout + proc.stderr
