"""Start a rehearsal lab of one's own from Python: `lync-lab serve` on free ports, and an inventory pointing there.

Tests, molecule scenarios, the demo and users rehearsing several labs side by side all need the same few things:
ports no other lab is using, a `lync-lab serve` subprocess that is ready when `start()` returns, a clean stop, and
a copy of an inventory (such as the collection's inventories/lab) whose ports are this lab's. ::

    from lync_lab.instance import LabInstance

    with LabInstance(tmp / "lab", stage=6, dns=True) as lab:
        inventory = lab.write_inventory(repo / "inventories" / "lab", tmp / "inventory")
        ...                                   # ansible-playbook -i inventory ...; lab.audit(); lab.dump_state()

Every port moves by one offset: the Lync admin host answers on 55985/55986 + offset (`--http-port/--https-port`),
every other server on its scenario ports + offset (`--port-offset`), the DNS server on 55953 + offset
(`--dns-port`). An inventory written for the lab's default ports therefore needs only that one offset added.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

# The audit log's entries, a line being written right now (or torn by a killed lab) left out.
from .model.audit import read_entries as read_audit

# The ports `make lab` and inventories/lab use; a lab with offset N answers on each of them plus N.
ADMIN_HTTP_PORT = 55985
ADMIN_HTTPS_PORT = 55986
DNS_PORT = 55953
# Below Linux's ephemeral range (32768-60999), so outgoing connections rarely hold a port a lab wants, and away
# from `make lab` (55953-56006) and the molecule scenarios (30000 + 400 * stage).
DEFAULT_PORT_RANGE = (20000, 30000)
# What the inventory names as a host's WinRM ports (inventories/lab/hosts.yml).
INVENTORY_PORT_KEYS = ("ansible_port", "lab_https_port")
LISTENING = "listening on"      # what `lync-lab serve` prints once every listener is bound
_ADDRESS_IN_USE = "Address already in use"


class LabStartError(RuntimeError):
    """`lync-lab serve` exited or did not listen in time; the message carries its output."""


class PortsTaken(LabStartError):
    """Another process bound one of the lab's ports between the choice and the lab's bind."""


def scenario_ports(scenario: str | Path) -> list[int]:
    """Every WinRM port the scenario's servers name (the admin host's included), sorted.

    Reads only the scenario's ``servers`` list, so a 20,000-user scenario costs no more than a small one.
    """
    from .errors import LabConfigError
    from .model.scenario import scenario_path

    path = scenario_path(scenario)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LabConfigError(f"scenario {scenario!r}: cannot read {path}: {exc}") from None
    servers = raw.get("servers") if isinstance(raw, dict) else None
    if not isinstance(servers, list):
        raise LabConfigError(f"{path}: servers: a list of servers is required")
    return sorted({int(s[key]) for s in servers if isinstance(s, dict)
                   for key in ("http_port", "https_port") if s.get(key)})


def port_free(port: int, udp: bool = False) -> bool:
    """True when nothing on this machine holds 127.0.0.1:port (TCP, or UDP with ``udp``)."""
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as s:
        if not udp:
            # As the lab's listeners bind (allow_reuse_address): a port whose last connection is in TIME_WAIT is
            # free for them. Not for UDP, where SO_REUSEADDR would share a port another lab's DNS server holds.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port_offset(tcp_ports: Sequence[int], udp_ports: Sequence[int] = (), *,
                       port_range: tuple[int, int] = DEFAULT_PORT_RANGE, randomize: bool = True,
                       skip: Iterable[int] = ()) -> int:
    """An offset under which every one of ``tcp_ports`` (and ``udp_ports``, over UDP and TCP) is free now.

    Candidates place all ports inside ``port_range`` (first port included, last excluded) in consecutive,
    non-overlapping blocks, so two labs never share a port. With ``randomize`` the search starts at a random block,
    which keeps labs started at the same moment (parallel test workers) from trying the same block first; without
    it the first free block wins (a caller that owns its range, such as one molecule scenario per stage).
    """
    ports = sorted(set(tcp_ports) | set(udp_ports))
    if not ports:
        raise ValueError("no ports to place")
    low, high = port_range
    span = ports[-1] - ports[0] + 1
    blocks = (high - low) // span
    if blocks < 1:
        raise LabStartError(f"the range {low}-{high - 1} is smaller than the lab's {span} ports")
    first = random.randrange(blocks) if randomize else 0
    skipped = set(skip)
    for i in range(blocks):
        offset = low + ((first + i) % blocks) * span - ports[0]
        if offset in skipped:
            continue
        if all(port_free(p + offset) for p in tcp_ports) and \
                all(port_free(p + offset) and port_free(p + offset, udp=True) for p in udp_ports):
            return offset
    raise LabStartError(f"no free block of {span} ports for a lab between {low} and {high - 1}")


def shift_inventory_ports(hosts: Any, offset: int) -> Any:
    """``hosts`` (a parsed inventory hosts.yml) with every ``ansible_port``/``lab_https_port`` moved by ``offset``,
    in place; returns it."""
    if isinstance(hosts, dict):
        for key, value in hosts.items():
            if key in INVENTORY_PORT_KEYS and isinstance(value, int):
                hosts[key] = value + offset
            else:
                shift_inventory_ports(value, offset)
    elif isinstance(hosts, list):
        for item in hosts:
            shift_inventory_ports(item, offset)
    return hosts


def inventory_host_ports(hosts: dict) -> dict[str, dict[str, int]]:
    """{host: {ansible_port, lab_https_port}} for every host of a parsed hosts.yml that names its ports."""
    found: dict[str, dict[str, int]] = {}

    def walk(group: dict) -> None:
        for name, body in (group.get("hosts") or {}).items():
            if isinstance(body, dict) and any(k in body for k in INVENTORY_PORT_KEYS):
                found[name] = {k: body[k] for k in INVENTORY_PORT_KEYS if k in body}
        for child in (group.get("children") or {}).values():
            walk(child or {})

    walk(hosts.get("all") or {})
    return found


def write_inventory(source_dir: Path, dest_dir: Path, offset: int, extra_vars: dict | None = None,
                    vars_file: str = "zz_lab_instance.yml") -> Path:
    """Copy the inventory directory ``source_dir`` to ``dest_dir`` (replacing it) with every host port of its
    hosts.yml moved by ``offset``; ``extra_vars`` go to group_vars/all/``vars_file`` (read after the inventory's
    own group_vars/all files, which are loaded in name order, so they win). Returns ``dest_dir``."""
    source_dir, dest_dir = Path(source_dir), Path(dest_dir)
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    shutil.copytree(source_dir, dest_dir)
    hosts = yaml.safe_load((source_dir / "hosts.yml").read_text(encoding="utf-8"))
    (dest_dir / "hosts.yml").write_text(yaml.safe_dump(shift_inventory_ports(hosts, offset), sort_keys=False),
                                        encoding="utf-8")
    if extra_vars:
        group_all = dest_dir / "group_vars" / "all"
        group_all.mkdir(parents=True, exist_ok=True)
        (group_all / vars_file).write_text(yaml.safe_dump(extra_vars, sort_keys=True), encoding="utf-8")
    return dest_dir


def write_inventory_overlay(hosts_yml: Path, dest: Path, offset: int, extra_vars: dict | None = None) -> Path:
    """An inventory file ``dest`` that, read after ``hosts_yml`` (``-i inventory -i dest``, or beside it in one
    directory: files are read in name order), gives each of its hosts that names ports those ports moved by
    ``offset``, plus ``extra_vars`` as host variables (which win over any group variable). Returns ``dest``."""
    hosts = inventory_host_ports(yaml.safe_load(Path(hosts_yml).read_text(encoding="utf-8")))
    overlay = {"all": {"hosts": {name: dict({k: v + offset for k, v in ports.items()}, **(extra_vars or {}))
                                 for name, ports in hosts.items()}}}
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(f"# The hosts of {hosts_yml} moved to a lab's ports (offset {offset}).\n"
                    + yaml.safe_dump(overlay, sort_keys=True), encoding="utf-8")
    return dest


def _lync_lab_command() -> list[str]:
    # The console script of the interpreter's environment (a venv's bin/), else the package run as a module, so
    # this works from a venv that is not on PATH.
    script = Path(sys.executable).parent / "lync-lab"
    return [str(script)] if script.exists() else [sys.executable, "-m", "lync_lab.cli"]


class LabInstance:
    """One `lync-lab serve` of the caller's own, on ports no other lab uses.

    The ports are chosen when the instance is made (``port_offset`` fixes them instead, e.g. 0 for the default
    ports); a fresh start whose ports another process took meanwhile moves to other free ports, so write
    inventories after ``start()`` (or again after it, when written before). The process runs in its own process
    group and session: a Ctrl-C meant for the caller's terminal does not reach it, ``stop()`` does.
    """

    def __init__(self, state_dir: Path | str, *, scenario: str | Path = "contoso-small", stage: int = 6,
                 dns: bool = False, latency: str = "none", time_scale: float = 1.0, faults: str | None = None,
                 double_hop: bool = False, extra_args: Sequence[str] = (), port_offset: int | None = None,
                 port_range: tuple[int, int] = DEFAULT_PORT_RANGE, randomize_ports: bool = True,
                 log: Path | str | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.scenario = str(scenario)
        self.stage = stage
        self.dns = dns
        self.latency = latency
        self.time_scale = time_scale
        self.faults = faults
        self.double_hop = double_hop
        self.extra_args = list(extra_args)
        self.log = Path(log) if log is not None else self.state_dir / "lab.log"
        self.process: subprocess.Popen | None = None
        self._port_range = port_range
        self._randomize = randomize_ports
        self._fixed_offset = port_offset is not None
        self.port_offset = port_offset if port_offset is not None else self._choose_offset()

    # -- ports -----------------------------------------------------------------------------------------------
    def base_ports(self) -> list[int]:
        """The scenario's WinRM ports at offset 0 (the admin host's 55985/55986 included)."""
        return sorted(set(scenario_ports(self.scenario)) | {ADMIN_HTTP_PORT, ADMIN_HTTPS_PORT})

    def _choose_offset(self, skip: Iterable[int] = ()) -> int:
        return choose_port_offset(self.base_ports(), [DNS_PORT] if self.dns else [], port_range=self._port_range,
                                  randomize=self._randomize, skip=skip)

    def port_of(self, base_port: int) -> int:
        """Where this lab answers for a port the scenario or the lab inventory names (e.g. 55989 -> ocs-fe01)."""
        return base_port + self.port_offset

    @property
    def http_port(self) -> int:
        """The Lync admin host's WinRM HTTP port."""
        return ADMIN_HTTP_PORT + self.port_offset

    @property
    def https_port(self) -> int:
        return ADMIN_HTTPS_PORT + self.port_offset

    @property
    def dns_port(self) -> int | None:
        """The lab's DNS server (UDP and TCP), or None when started without one."""
        return DNS_PORT + self.port_offset if self.dns else None

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/wsman"

    @property
    def ca_path(self) -> Path:
        """The CA certificate the lab's HTTPS listeners chain to (written at the first start)."""
        return self.state_dir / "tls" / "ca.pem"

    @property
    def audit_path(self) -> Path:
        return self.state_dir / "audit.jsonl"

    # -- the process -----------------------------------------------------------------------------------------
    def command_line(self, keep: bool = False, faults: str | None = None) -> list[str]:
        """The `lync-lab serve` command ``start`` runs."""
        cmd = _lync_lab_command() + [
            "serve", "--scenario", self.scenario, "--stage", str(self.stage), "--state-dir", str(self.state_dir),
            "--http-port", str(self.http_port), "--https-port", str(self.https_port),
            "--port-offset", str(self.port_offset)]
        if self.dns:
            cmd += ["--dns-port", str(self.dns_port)]
        if self.latency != "none":
            cmd += ["--latency", self.latency]
        if self.time_scale != 1.0:
            cmd += ["--time-scale", str(self.time_scale)]
        faults = faults if faults is not None else self.faults
        if faults:
            cmd += ["--faults", faults]
        if self.double_hop:
            cmd.append("--double-hop")
        if keep:
            cmd.append("--keep")
        return cmd + self.extra_args

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, keep: bool = False, faults: str | None = None, timeout: float = 120.0) -> "LabInstance":
        """Start the lab and return once it listens on every port. ``keep`` serves the state directory's
        existing state instead of seeding; ``faults`` overrides the instance's fault plan for this run.

        A fresh start whose ports were taken meanwhile retries on other free ports (not with ``keep`` or a fixed
        ``port_offset``: there the ports are part of what the caller asked for). Raises LabStartError with the
        lab's output when it exits or does not listen within ``timeout`` seconds.
        """
        if self.running:
            raise LabStartError(f"the lab in {self.state_dir} is already running (pid {self.process.pid})")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(5):
            try:
                return self._start_once(keep, faults, timeout)
            except PortsTaken:
                if keep or self._fixed_offset or attempt == 4:
                    raise
                self.port_offset = self._choose_offset(skip=[self.port_offset])
        return self

    def _start_once(self, keep: bool, faults: str | None, timeout: float) -> "LabInstance":
        cmd = self.command_line(keep=keep, faults=faults)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a", encoding="utf-8") as out:
            out.write("--- " + " ".join(cmd) + "\n")
        mark = self.log.stat().st_size
        with open(self.log, "a", encoding="utf-8") as out:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            output = self._output_since(mark)
            if LISTENING in output:
                return self
            if self.process.poll() is not None:
                if _ADDRESS_IN_USE in output:
                    raise PortsTaken(f"lync-lab could not bind its ports (offset {self.port_offset}):\n{output}")
                raise LabStartError(f"lync-lab did not start (exit {self.process.returncode}):\n{output}")
            if time.monotonic() > deadline:
                self.kill()
                raise LabStartError(f"lync-lab did not listen within {timeout:g} s:\n{self._output_since(mark)}")
            time.sleep(0.1)

    def _output_since(self, mark: int) -> str:
        with open(self.log, "rb") as fh:
            fh.seek(mark)
            return fh.read().decode("utf-8", "replace")

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)   # its own process group (start_new_session)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (the lab closes its listeners and the store), then SIGKILL after ``timeout`` seconds."""
        if not self.running:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: the lab dies mid-whatever, as on a power cut."""
        if self.running:
            self._signal(signal.SIGKILL)
            self.process.wait()

    def restart(self, timeout: float = 120.0) -> "LabInstance":
        """Stop, then serve the same state again on the same ports (--keep)."""
        self.stop()
        return self.start(keep=True, timeout=timeout)

    def __enter__(self) -> "LabInstance":
        return self if self.running else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def seed(self, change: Callable[[Any], None] | None = None) -> None:
        """Seed the state directory with the scenario at the stage now, and let ``change(tx)`` alter it (one store
        transaction, the cmdlets' ``Transaction``): a later ``start(keep=True)`` serves that state. For rehearsing
        from a deployment that differs from the stage seed (an object an admin left behind)."""
        from .model.scenario import load_scenario
        from .model.store import Store

        store = Store(self.state_dir / "state.sqlite")
        try:
            store.seed(load_scenario(self.scenario), self.stage)
            if change is not None:
                with store.transaction() as tx:
                    change(tx)
        finally:
            store.close()

    # -- what the lab did ------------------------------------------------------------------------------------
    def audit(self) -> list[dict]:
        """The audit log: one entry per cmdlet call (time, user, server, cmdlet, params, outcome, error)."""
        return read_audit(self.audit_path)

    def dump_state(self) -> dict:
        """The organisation's state as ``lync_lab.model.stages.dump_state`` gives it (comparable with a stage
        seed); readable while the lab runs."""
        from .model.stages import dump_state
        from .model.store import Store

        store = Store(self.state_dir / "state.sqlite")
        try:
            return dump_state(store)
        finally:
            store.close()

    # -- inventories -----------------------------------------------------------------------------------------
    def inventory_vars(self) -> dict:
        """The variables that point a lab inventory's plays at this lab rather than at `make lab`: the state
        directory `lync-lab perform` acts on (guided steps) and, with DNS, the resolver's port."""
        found: dict[str, Any] = {"lync_migration_lab_state_dir": str(self.state_dir)}
        if self.dns:
            found.update(lync_migration_dns_resolver="127.0.0.1", lync_migration_dns_resolver_port=self.dns_port)
        return found

    def write_inventory(self, source_dir: Path, dest_dir: Path, extra_vars: dict | None = None,
                        vars_file: str = "zz_lab_instance.yml") -> Path:
        """``source_dir`` (e.g. inventories/lab) copied to ``dest_dir`` with this lab's ports and
        ``inventory_vars()`` plus ``extra_vars`` in group_vars/all/``vars_file``."""
        return write_inventory(source_dir, dest_dir, self.port_offset, dict(self.inventory_vars(), **(extra_vars or {})),
                               vars_file=vars_file)

    def write_inventory_overlay(self, hosts_yml: Path, dest: Path, extra_vars: dict | None = None) -> Path:
        """An inventory file read after ``hosts_yml`` that moves its hosts to this lab's ports, with
        ``inventory_vars()`` plus ``extra_vars`` as host variables."""
        return write_inventory_overlay(hosts_yml, dest, self.port_offset,
                                       dict(self.inventory_vars(), **(extra_vars or {})))
