"""Phases 1-2 labs: phase_lab.PhaseLab plus the lab's DNS server on a free port, and the inventory's resolver
variables pointing at it."""

from __future__ import annotations

import socket
import subprocess
import time

import yaml

from phase_lab import REPO, VENV_BIN, PhaseLab

READ_ONLY = ("Get-", "Test-")


def _free_udp_tcp(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class DNSPhaseLab(PhaseLab):
    def __init__(self, root, stage, collections_path):
        super().__init__(root, stage, collections_path)
        self.dns_port = next(p for p in range(self.http + 20, self.http + 60) if _free_udp_tcp(p))
        extra_file = self.inventory / "group_vars" / "all" / "zz_test_lab.yml"
        extra = yaml.safe_load(extra_file.read_text())
        extra["lync_migration_dns_resolver_port"] = self.dns_port
        extra_file.write_text(yaml.safe_dump(extra))

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.root / "lab.log"
        cmd = [str(VENV_BIN / "lync-lab"), "serve", "--scenario", "contoso-small", "--stage", str(self.stage),
               "--state-dir", str(self.state_dir), "--http-port", str(self.http), "--https-port", str(self.https),
               "--port-offset", str(self.offset), "--dns-port", str(self.dns_port)]
        with open(log, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while "listening on" not in log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("lync-lab did not start:\n" + log.read_text())
            time.sleep(0.1)


def make_lab(tmp_path_factory, name: str, stage: int) -> DNSPhaseLab:
    root = tmp_path_factory.mktemp(name)
    link = root / "collections" / "ansible_collections" / "lync" / "migration"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    lab = DNSPhaseLab(root, stage, root / "collections")
    lab.start()
    return lab


def changing_calls(entries):
    return [e.get("cmdlet") for e in entries if e.get("cmdlet") and not str(e["cmdlet"]).startswith(READ_ONLY)]


def comparable(state):
    """The state minus what names the seed rather than the deployment (_meta.stage)."""
    out = {k: dict(v) for k, v in state.items()}
    out["_meta"].pop("stage", None)
    return out
