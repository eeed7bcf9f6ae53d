"""A lab of its own for the Phase 4/5 tests: free ports, a distinct --port-offset, a matching inventory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
DEFAULT_PORTS = {"lync-fe01.contoso.net": 55985, "ocs-fe01.contoso.net": 55989, "ocs-edge01.contoso.net": 55991,
                 "lync-edge01.contoso.net": 55993, "dc01.contoso.net": 55995, "ocs-med01.contoso.net": 55997}

def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Lab:
    def __init__(self, tmp: Path, stage: int, offset: int) -> None:
        self.tmp, self.stage, self.offset = tmp, stage, offset
        self.state = tmp / "state"
        self.http = next(p for p in range(42000 + offset * 7, 65000, 2) if _free(p) and _free(p + 1))
        self.proc = None

    def start(self) -> "Lab":
        log = open(self.tmp / "lab.log", "w")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "lync-lab"), "serve", "--scenario", "contoso-small", "--stage", str(self.stage),
             "--state-dir", str(self.state), "--http-port", str(self.http), "--https-port", str(self.http + 1),
             "--port-offset", str(self.offset)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while "listening on" not in (self.tmp / "lab.log").read_text():
            assert self.proc.poll() is None, (self.tmp / "lab.log").read_text()
            assert time.monotonic() < deadline, "lab did not start"
            time.sleep(0.1)
        self.inventory = self._inventory()
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _inventory(self) -> Path:
        inv = self.tmp / "inventory"
        shutil.copytree(REPO / "inventories" / "lab", inv)
        hosts = yaml.safe_load((inv / "hosts.yml").read_text())

        def walk(node):
            for name, body in (node.get("hosts") or {}).items():
                if body and "ansible_port" in body:
                    base = DEFAULT_PORTS[name]
                    port = self.http if name == "lync-fe01.contoso.net" else base + self.offset
                    body["ansible_port"] = port
                    body["lab_https_port"] = port + 1
            for child in (node.get("children") or {}).values():
                walk(child or {})

        walk(hosts["all"])
        (inv / "hosts.yml").write_text(yaml.safe_dump(hosts))
        # Only what differs for a lab of its own; the legacy Edges and the confirmations of P4.1/P5.2 are the lab
        # inventory's own (an inventory that lacks them must fail the test, not be patched here).
        extra = {"lync_migration_lab_state_dir": str(self.state),
                 "lync_migration_report_dir": str(self.tmp / "reports"),
                 "lync_migration_lab_command": str(VENV_BIN / "lync-lab"),
                 "lync_migration_prompt_for_confirmation": False}
        (inv / "group_vars" / "all" / "phase45_test.yml").write_text(yaml.safe_dump(extra))
        return inv

    def playbook(self, name: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="default",
                   ANSIBLE_COLLECTIONS_PATH=str(REPO / ".ansible" / "collections"), ANSIBLE_FORCE_COLOR="0")
        return subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory),
                               str(REPO / "playbooks" / name), *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=600)

    def audit(self) -> list[dict]:
        path = self.state / "audit.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def recap(output: str, host: str = "lync-fe01.contoso.net") -> dict:
    for line in output.splitlines():
        if line.startswith(host) and "ok=" in line:
            return {k: int(v) for k, v in (p.split("=") for p in line.split(":", 1)[1].split())}
    raise AssertionError("no recap for %s in:\n%s" % (host, output[-3000:]))


def seeded_state(stage: int, tmp: Path) -> dict:
    from lync_lab.model.scenario import load_scenario
    from lync_lab.model.stages import dump_state
    from lync_lab.model.store import Store

    store = Store(tmp / f"seed{stage}.sqlite")
    store.seed(load_scenario("contoso-small"), stage)
    try:
        return comparable(dump_state(store))
    finally:
        store.close()


def state_of(lab: Lab) -> dict:
    from lync_lab.model.stages import dump_state
    from lync_lab.model.store import Store

    store = Store(lab.state / "state.sqlite")
    try:
        return comparable(dump_state(store))
    finally:
        store.close()


def comparable(state: dict) -> dict:
    # Working files a phase leaves on the admin host (inputs, -Report files) are not organisation state; the
    # stage number itself is what the seed was asked for.
    state.pop("file", None)
    # The topology is compared as a document, whitespace aside: Publish-CsTopology -FileName stores the file's
    # text, which Set-Content ends with CRLF, while the seed serialises the document itself.
    for doc in state.get("topology", {}).values():
        for field in ("xml", "enabled_xml"):
            if doc.get(field):
                doc[field] = ET.canonicalize(xml_data=doc[field], strip_text=True)
    state.get("_meta", {}).pop("stage", None)
    state.get("_meta", {}).pop("legacy_import_last_report", None)   # where the -Report file went
    return state
