"""The lab's DNS server (lync-lab serve --dns-port): what a resolver sees over UDP and TCP, and the records the
migration's DNS steps change (P2.2 the pilot pool's A record, P10.2 the internal SRV record)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest

from lync_lab.config import LabConfig
from lync_lab.dns import DNSServer
from lync_lab.lab import Lab

VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    # A port free for both UDP and TCP.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


@pytest.fixture()
def zone(tmp_path, request):
    stage = getattr(request, "param", 2)
    lab = Lab(LabConfig(scenario="contoso-small", stage=stage, state_dir=tmp_path / "lab"))
    port = _free_port()
    server = DNSServer(lab, "127.0.0.1", port)
    server.start()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    resolver.lifetime = 5
    yield lab, resolver, port
    server.stop()
    lab.stop()


def _perform(lab, *args) -> dict:
    out = subprocess.run([str(VENV_BIN / "lync-lab"), "perform", *args, "--state-dir", str(lab.state_dir)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_and_srv_records_resolve_over_udp_and_tcp(zone):
    _lab, resolver, _port = zone
    answer = resolver.resolve("pool01.contoso.net", "A")
    assert [r.address for r in answer] == ["192.168.10.11"]
    assert answer.response.flags & dns.flags.AA
    srv = resolver.resolve("_sipinternaltls._tcp.contoso.net", "SRV", tcp=True)
    assert [(r.target.to_text(), r.port, r.priority, r.weight) for r in srv] == [("pool01.contoso.net.", 5061, 0, 0)]
    assert [r.address for r in resolver.resolve("sip.contoso.net", "A", tcp=True)] == ["131.107.155.10"]


def test_missing_names_other_types_and_foreign_zones(zone):
    _lab, resolver, port = zone
    # Before Phase 2 the pilot pool has no A record (P2.2 creates it).
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("pool02.contoso.net", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("pool01.contoso.net", "SRV")
    reply = dns.query.udp(dns.message.make_query("www.fabrikam.com", "A"), "127.0.0.1", port=port, timeout=5)
    assert reply.rcode() == dns.rcode.REFUSED


def test_create_dns_record_makes_the_pilot_pool_resolve_once(zone):
    lab, resolver, _port = zone
    first = _perform(lab, "create-dns-record", "--server", "pool02.contoso.net")
    assert first["changed"] is True
    assert [r.address for r in resolver.resolve("pool02.contoso.net", "A")] == ["192.168.10.21"]
    assert _perform(lab, "create-dns-record", "--server", "pool02.contoso.net")["changed"] is False


@pytest.mark.parametrize("zone", [3], indirect=True)
def test_stage_3_seed_has_the_pilot_pool_record(zone):
    _lab, resolver, _port = zone
    assert [r.address for r in resolver.resolve("pool02.contoso.net", "A")] == ["192.168.10.21"]


def test_repointing_the_internal_srv_record_reaches_the_stage_11_zone(zone):
    lab, resolver, _port = zone
    assert _perform(lab, "repoint-sip-internal-srv")["changed"] is True
    srv = resolver.resolve("_sipinternaltls._tcp.contoso.net", "SRV")
    assert [r.target.to_text() for r in srv] == ["pool02.contoso.net."]
    assert _perform(lab, "repoint-sip-internal-srv")["changed"] is False


def test_serve_starts_the_dns_server(tmp_path):
    import signal
    import time

    port = _free_port()
    http = _free_port()
    https = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(VENV_BIN / "lync-lab"), "serve", "--stage", "3", "--state-dir", str(tmp_path / "s"),
                                 "--http-port", str(http), "--https-port", str(https), "--port-offset", str(http - 55985 + 100),
                                 "--dns-port", str(port)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "listening on" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert f"DNS on 127.0.0.1:{port}" in log.read_text()
        reply = dns.query.tcp(dns.message.make_query("pool02.contoso.net", "A"), "127.0.0.1", port=port, timeout=5)
        assert [r.address for r in reply.answer[0]] == ["192.168.10.21"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
