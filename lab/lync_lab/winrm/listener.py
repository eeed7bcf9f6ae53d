"""The WinRM listener: threaded HTTP/1.1 (or HTTPS) server on ``/wsman`` for one modelled server.

    listener = WinRMListener(lab, server, "127.0.0.1", 55985, tls=None)        # HTTP
    listener = WinRMListener(lab, server, "127.0.0.1", 55986, tls=certs)       # HTTPS, certs from
                                                                              # certs.ensure_certificates
    listener.start()   # returns once listening; serves in background threads
    listener.stop()

Connections are kept alive (NTLM authenticates the connection) and use TCP_NODELAY (with Nagle's
algorithm on, every request/response pair waited for a delayed ACK: 179 ms instead of 7 ms per call).

From ``lab`` the listener uses: ``state_dir`` (NTLM account file), ``ntlm_accounts()``, optionally
``scenario.domain`` (the DNS domain, for ``contoso.net\\user`` and UPN logons),
``check_password(user, password)``, ``faults`` (FaultPlan or None: http500, reset here; slow and quota in
shells.py) and ``runtime_for(server)`` (through shells.py).
"""

from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..context import ServerInfo
from . import wsman
from .auth import AccountMap, ConnectionAuth, write_ntlm_user_file
from .shells import acquire_manager, release_manager

log = logging.getLogger(__name__)

# Read limit for one HTTP body; far above MaxEnvelopeSizekb so oversized requests still get Windows' answer (413).
MAX_HTTP_BODY = 16 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128   # many parallel sessions (forks x shells) connect at once
    allow_reuse_address = True

    def __init__(self, address, handler, listener: "WinRMListener") -> None:
        self.listener = listener
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, addr

    def handle_error(self, request, client_address) -> None:
        # Clients dropping connections (or failing TLS) are routine; anything else is logged.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        listener = self.server.listener
        if listener.ssl_context is not None:
            self.request.settimeout(30)
            self.request = listener.ssl_context.wrap_socket(self.request, server_side=True)
            self.request.settimeout(None)
        listener._track(self.request, True)
        super().setup()
        self.auth = ConnectionAuth(listener.lab, listener.accounts, listener.ssl_context is not None,
                                   listener.channel_binding)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.listener._track(self.request, False)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from the base class
        log.debug("%s %s", self.address_string(), format % args)

    # -- helpers --------------------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_HTTP_BODY:
                    raise ValueError("body too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_HTTP_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", content_type: str | None = None,
              authenticate: list[str] | None = None) -> None:
        self.send_response(status)
        if status != 401 and getattr(self, "_auth_final", None):
            # Kerberos mutual authentication: the acceptor's last token rides on the first successful answer.
            authenticate = (authenticate or []) + self._auth_final
            self._auth_final = None
        for value in authenticate or []:
            self.send_header("WWW-Authenticate", value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def _unauthorized(self, challenge: list[str] | None = None) -> None:
        self._send(401, authenticate=challenge or self.auth.default_challenges())

    # -- HTTP methods ---------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._read_body()
        self._send(405)

    def do_POST(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(413)
            return
        if self.path.split("?")[0].lower() != "/wsman":
            self._send(404)
            return

        header = self.headers.get("Authorization")
        if header:
            result = self.auth.authorize(header)
            if result.challenge is not None:
                self._unauthorized(result.challenge)
                return
            if result.denied:
                self._unauthorized()
                return
            identity = result.identity
            self._auth_final = result.final
        elif self.auth.identity is not None:
            identity = self.auth.identity
        else:
            self._unauthorized()
            return

        if not body:
            # pywinrm's empty POST that establishes the context for message encryption.
            self._send(200)
            return

        content_type = self.headers.get("Content-Type", "")
        encrypted = content_type.lower().startswith(("multipart/encrypted", "multipart/x-multi-encrypted"))
        if encrypted:
            if self.auth.context is None:
                self._unauthorized()
                return
            try:
                message = self.auth.unwrap_body(body)
            except Exception:
                log.info("could not decrypt a request from %s", self.client_address[0])
                self.auth.reset()
                self.close_connection = True
                self._send(400)
                return
        else:
            if self.server.listener.ssl_context is None:
                # AllowUnencrypted=false: over HTTP every message must be encrypted.
                self._unauthorized()
                return
            message = body

        self._respond(identity, message, encrypted)

    def _respond(self, identity, message: bytes, encrypted: bool) -> None:
        listener = self.server.listener
        faults = getattr(listener.lab, "faults", None)
        if faults is not None and not getattr(faults, "enabled", False):
            faults = None
        if faults is not None and faults.roll("reset"):
            log.info("fault injection: resetting the connection from %s", self.client_address[0])
            self.close_connection = True
            try:
                # Linger 0: closing sends a TCP RST, as a dropped connection does.
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            return

        host = listener.server.host
        if len(message) > host.max_envelope_bytes:
            # Over MaxEnvelopeSizekb: HTTP 413 without a SOAP body (see wsman.REQUEST_TOO_LARGE_STATUS).
            log.info("request of %d bytes from %s over MaxEnvelopeSizekb %d", len(message), self.client_address[0],
                     host.quotas.MaxEnvelopeSizekb)
            self._send(wsman.REQUEST_TOO_LARGE_STATUS)
            return
        relates_to = ""
        try:
            request = wsman.parse_request(message, host.max_envelope_bytes, host.max_timeout_seconds)
            relates_to = request.message_id
            if faults is not None and faults.roll("http500"):
                log.info("fault injection: HTTP 500 for %s", request.action)
                raise wsman.internal_error()
            xml = listener.shells.handle(request, identity, self.client_address[0], listener.address)
            status = 200
        except wsman.WSManFault as fault:
            xml = wsman.fault_envelope(fault, relates_to, listener.server.fqdn)
            status = fault.http_status
        except Exception:
            log.exception("internal error handling a WS-Man request on %s", listener.server.fqdn)
            xml = wsman.fault_envelope(wsman.internal_error(), relates_to, listener.server.fqdn)
            status = 500

        data = xml.encode("utf-8")
        if encrypted:
            body, content_type = self.auth.wrap_body(data)
        else:
            body, content_type = data, "application/soap+xml;charset=UTF-8"
        self._send(status, body, content_type)


class WinRMListener:
    """One HTTP or HTTPS WinRM endpoint of one modelled server."""

    def __init__(self, lab, server: ServerInfo, listen: str, port: int, tls) -> None:
        self.lab = lab
        self.server = server
        self.listen = listen
        self.port = port
        self.tls = tls
        self.ssl_context: ssl.SSLContext | None = tls.server_context() if tls is not None else None
        self.channel_binding: bytes | None = tls.channel_binding_data() if tls is not None else None
        self.accounts = AccountMap([])
        self.shells = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set = set()
        self._conns_lock = threading.Lock()

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def address(self) -> str:
        return f"{self.scheme}://{self.server.fqdn}:{self.port}/wsman"

    def _track(self, sock, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(sock)

    def start(self) -> None:
        accounts = list(self.lab.ntlm_accounts())
        # The scenario's DNS domain, when the lab has one, adds the contoso.net\\user and UPN spellings.
        dns_domain = getattr(getattr(self.lab, "scenario", None), "domain", None)
        dns_domain = dns_domain if isinstance(dns_domain, str) and dns_domain else None
        self.accounts = AccountMap(accounts, dns_domain)
        write_ntlm_user_file(self.lab.state_dir, accounts, dns_domain)
        self.shells = acquire_manager(self.lab, self.server)
        self._httpd = _Server((self.listen, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]   # port 0 asks the OS for a free port
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        daemon=True, name=f"winrm-{self.server.computer_name}-{self.port}")
        self._thread.start()
        log.info("WinRM %s listener for %s on %s:%d", self.scheme.upper(), self.server.fqdn, self.listen, self.port)

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._conns_lock:
            conns = list(self._conns)
            self._conns.clear()
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        release_manager(self.lab, self.server)
        self.shells = None
        self._httpd = None
