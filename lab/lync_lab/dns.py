"""A small authoritative DNS server for the lab's zone (lync-lab serve --dns-port N), on loopback, UDP and TCP.

Answers A and SRV queries from the lab's state (kind "dns_record", lync_lab.model.dns_records), so a record the
migration creates or re-points (P2.2 the pilot pool's A record, P10.2 the internal SRV record) is visible to the
next query. Authoritative answers (AA) for the scenario's zones: the records, NODATA (NOERROR, no answer) for a
name without records of the asked type, NXDOMAIN for a name that does not exist; REFUSED for other zones, as an
internal Windows DNS server without forwarders would; NOTIMP for anything but a standard query.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from .model import dns_records


def answer(lab, wire: bytes) -> bytes | None:
    """The response to one query message (wire format), or None when it cannot be parsed at all."""
    try:
        query = dns.message.from_wire(wire)
    except Exception:  # noqa: BLE001 - a malformed packet gets no answer, as from a real server
        return None
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
        response.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY else dns.rcode.FORMERR)
        response.flags &= ~dns.flags.AA
        return response.to_wire()
    question = query.question[0]
    qname = question.name.to_text(omit_final_dot=True).lower()
    zones = dns_records.zones(lab.scenario)
    if not any(qname == z or qname.endswith("." + z) for z in zones):
        response.set_rcode(dns.rcode.REFUSED)
        response.flags &= ~dns.flags.AA
        return response.to_wire()
    rtype = dns.rdatatype.to_text(question.rdtype)
    with lab.store.transaction(write=False) as tx:
        exists, records = dns_records.lookup(tx, qname, rtype)
    if not exists:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()
    for rec in records:
        if rec["Type"] == "A":
            text = rec["Address"]
        else:
            text = f"{rec['Priority']} {rec['Weight']} {rec['Port']} {rec['Target']}."
        rdata = dns.rdata.from_text(dns.rdataclass.IN, question.rdtype, text)
        rrset = response.find_rrset(response.answer, question.name, dns.rdataclass.IN, question.rdtype, create=True)
        rrset.update_ttl(rec["TTL"])
        rrset.add(rdata)
    return response.to_wire()


class _UDPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        out = answer(self.server.lab, data)
        if out is not None:
            if len(out) > 512:          # no EDNS here: a long answer is truncated and the client retries over TCP
                msg = dns.message.from_wire(out)
                msg.flags |= dns.flags.TC
                msg.answer = []
                out = msg.to_wire()
            sock.sendto(out, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn = self.request
        conn.settimeout(10)
        while True:
            head = _read(conn, 2)
            if not head:
                return
            (length,) = struct.unpack("!H", head)
            data = _read(conn, length)
            if data is None:
                return
            out = answer(self.server.lab, data)
            if out is None:
                return
            conn.sendall(struct.pack("!H", len(out)) + out)


def _read(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        try:
            chunk = conn.recv(n - len(buf))
        except OSError:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    allow_reuse_address = True


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class DNSServer:
    """UDP and TCP listeners on (listen, port) answering from ``lab``'s state. ``start()`` returns at once."""

    def __init__(self, lab, listen: str, port: int) -> None:
        self.lab = lab
        self.address = (listen, port)
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for cls, handler in ((_UDPServer, _UDPHandler), (_TCPServer, _TCPHandler)):
            srv = cls(self.address, handler)
            srv.lab = self.lab
            self._servers.append(srv)
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2},
                                 name=f"dns-{cls.__name__}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        self._servers.clear()
        self._threads.clear()
