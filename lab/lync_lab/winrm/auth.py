"""HTTP authentication for the WinRM listener, and WinRM message encryption (MS-WSMV 2.2.9.1).

Per TCP connection (NTLM and CredSSP authenticate the connection, not the request) a ``ConnectionAuth``
turns ``Authorization`` headers into an ``Identity`` or a 401 answer:

- ``Basic``: only over HTTPS, like Windows with AllowUnencrypted=false (over HTTP: 401). Checked with
  ``lab.check_password`` on every request.
- ``Negotiate`` / ``NTLM``: pyspnego acceptor. Raw NTLM tokens (what requests-ntlm sends under either
  scheme) go to the NTLM acceptor, SPNEGO-wrapped ones to the Negotiate acceptor. Over HTTPS the client's
  channel binding is checked when present (Windows' CbtHardeningLevel=Relaxed). Over HTTP the messages that
  follow must be encrypted (``multipart/encrypted``); the context of the connection seals the answers.
- ``CredSSP``: only over HTTPS; the session may delegate (``can_delegate=True``).
- ``Negotiate`` carrying Kerberos (a raw krb5 token, as pywinrm's kerberos transport sends, or SPNEGO): pyspnego's
  GSSAPI acceptor with the keytab named by ``KRB5_KTNAME`` (and the realm of ``KRB5_CONFIG``) in the lab's
  environment. The session may delegate when the client forwarded its TGT (``ContextReq.delegate``). The
  acceptor's AP-REP goes back on the successful response (``AuthResult.final``) for mutual authentication.

The NTLM acceptor reads accounts from the file named by ``NTLM_USER_FILE``; ``write_ntlm_user_file``
writes it (NT/LM hashes in smbpasswd form, so no password is stored in clear) from ``lab.ntlm_accounts()``.
That variable is process-wide: when several labs run in one process, the last one started provides it.

From ``lab`` this module uses: ``check_password(user, password)`` and ``ntlm_accounts()``.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import spnego
import spnego.exceptions
from spnego.channel_bindings import GssChannelBindings
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1

from .shells import Identity

log = logging.getLogger(__name__)

MIME_BOUNDARY = b"--Encrypted Boundary"
SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted"
CREDSSP_ENCRYPTED = "application/HTTP-CredSSP-session-encrypted"

_env_lock = threading.Lock()


class AccountMap:
    """Scenario accounts by (domain, user), case-insensitive, for mapping an NTLM principal to its canonical name."""

    def __init__(self, accounts: list[tuple[str, str, str]], dns_domain: str | None = None) -> None:
        self._by_full: dict[tuple[str, str], str] = {}
        self._by_user: dict[str, str] = {}
        for domain, user, _password in accounts:
            canonical = f"{domain}\\{user}" if domain else user
            self._by_full[(domain.lower(), user.lower())] = canonical
            self._by_user.setdefault(user.lower(), canonical)
            if dns_domain:
                # Windows also accepts contoso.net\user and the UPN user@contoso.net.
                self._by_full[(dns_domain.lower(), user.lower())] = canonical
                self._by_user.setdefault(f"{user}@{dns_domain}".lower(), canonical)

    def canonical(self, principal: str | None) -> str | None:
        if not principal:
            return None
        domain, sep, user = principal.rpartition("\\")
        if not sep:
            return self._by_user.get(principal.lower())
        return self._by_full.get((domain.lower(), user.lower())) or (
            self._by_user.get(user.lower()) if not domain else None)


def write_ntlm_user_file(state_dir: str | os.PathLike, accounts: list[tuple[str, str, str]],
                         dns_domain: str | None = None) -> Path:
    """Write the NTLM acceptor's account file and point NTLM_USER_FILE at it.

    Each account gets lines for ``DOMAIN\\user`` and bare ``user`` (and, given the DNS domain,
    ``contoso.net\\user`` and ``user@contoso.net``), since clients may send any of them.
    """
    path = Path(state_dir) / "ntlm_users"
    lines = []
    seen: set[str] = set()
    for domain, user, password in accounts:
        if ":" in user or ":" in domain or "\n" in user:
            log.warning("account %r cannot be written to the NTLM account file (':' in name); skipped", user)
            continue
        lm = binascii.hexlify(lmowfv1(password)).decode().upper()
        nt = binascii.hexlify(ntowfv1(password)).decode().upper()
        names = ([f"{domain}\\{user}"] if domain else []) + [user]
        if dns_domain:
            names += [f"{dns_domain}\\{user}", f"{user}@{dns_domain}"]
        for name in names:
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            lines.append(f"{name}:0:{lm}:{nt}:[U]:LCT-00000000")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    with _env_lock:
        os.environ["NTLM_USER_FILE"] = str(path)
    return path


@dataclass
class AuthResult:
    """What to do with a request after looking at its Authorization header."""

    identity: Identity | None = None
    challenge: list[str] | None = None   # 401 with these WWW-Authenticate values
    denied: bool = False                 # 401 with the listener's default WWW-Authenticate values
    final: list[str] | None = None       # WWW-Authenticate values for the successful answer (Kerberos AP-REP)


# The Kerberos v5 mechanism OID (1.2.840.113554.1.2.2), DER-encoded: a raw krb5 GSS token starts with it.
_KRB5_OID = bytes.fromhex("06092a864886f712010202")


def _is_raw_kerberos(token: bytes) -> bool:
    return token[:1] == b"\x60" and _KRB5_OID in token[:16]


class ConnectionAuth:
    """The authentication state of one TCP connection."""

    def __init__(self, lab, accounts: AccountMap, tls: bool, channel_binding: bytes | None) -> None:
        self.lab = lab
        self.accounts = accounts
        self.tls = tls
        self.channel_binding = channel_binding
        self.identity: Identity | None = None   # set once NTLM/CredSSP completed on this connection
        self.context = None                     # the established security context (for message encryption)
        self.scheme = ""                        # ntlm | credssp | basic
        self._pending = None                    # a context in the middle of its handshake
        self._pending_kind = ""

    def default_challenges(self) -> list[str]:
        values = ["Negotiate", 'Basic realm="WSMAN"']
        if self.tls:
            values.append("CredSSP")
        return values

    def reset(self) -> None:
        self.identity = None
        self.context = None
        self._pending = None
        self.scheme = ""

    # -- Authorization header ------------------------------------------------------------------------------
    def authorize(self, header: str) -> AuthResult:
        scheme, _, value = header.strip().partition(" ")
        kind = scheme.lower()
        value = value.strip()
        if kind == "basic":
            return self._basic(value)
        if kind in ("negotiate", "ntlm"):
            return self._negotiate(scheme, value)
        if kind == "credssp":
            return self._credssp(value)
        return AuthResult(denied=True)

    def _basic(self, value: str) -> AuthResult:
        if not self.tls:
            # AllowUnencrypted=false: Windows refuses Basic on an HTTP listener.
            return AuthResult(denied=True)
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return AuthResult(denied=True)
        user, sep, password = decoded.partition(":")
        if not sep:
            return AuthResult(denied=True)
        canonical = self.lab.check_password(user, password)
        if not canonical:
            log.info("Basic authentication failed for %r", user)
            return AuthResult(denied=True)
        self.scheme = "basic"
        return AuthResult(identity=Identity(canonical, "basic"))

    def _decode_token(self, value: str) -> bytes | None:
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            return None

    def _negotiate(self, scheme: str, value: str) -> AuthResult:
        token = self._decode_token(value)
        if not token:
            return AuthResult(denied=True)
        raw_ntlm = token.startswith(b"NTLMSSP\x00")
        raw_krb5 = _is_raw_kerberos(token)
        is_first = (raw_ntlm and token[8:12] == b"\x01\x00\x00\x00") or raw_krb5 or \
            not raw_ntlm and self._pending is None
        if is_first or self._pending is None or self._pending_kind != "ntlm":
            self.reset()
            self._pending = spnego.server(protocol="ntlm" if raw_ntlm else "kerberos" if raw_krb5 else "negotiate")
            self._pending_kind = "ntlm"
        ctx = self._pending
        try:
            out = self._step(ctx, token)
        except spnego.exceptions.SpnegoError as exc:
            log.info("Negotiate authentication failed: %s", exc.message if hasattr(exc, "message") else exc)
            self.reset()
            return AuthResult(denied=True)
        if not ctx.complete:
            return AuthResult(challenge=[f"{scheme} {base64.b64encode(out or b'').decode()}"])
        kerberos = raw_krb5 or getattr(ctx, "negotiated_protocol", "ntlm") == "kerberos"
        principal = ctx.client_principal
        if kerberos and principal and "@" in principal:
            # lyncadmin@CONTOSO.NET: the realm is the DNS domain in upper case; AccountMap knows user@domain.
            user, _, realm = principal.rpartition("@")
            principal = f"{user}@{realm.lower()}"
        canonical = self.accounts.canonical(principal)
        if canonical is None:
            self.reset()
            return AuthResult(denied=True)
        self._pending = None
        self.context = ctx
        if kerberos:
            self.scheme = "kerberos"
            delegated = bool(ctx.context_attr & spnego.ContextReq.delegate)
            self.identity = Identity(canonical, "kerberos", can_delegate=delegated)
            final = [f"{scheme} {base64.b64encode(out).decode()}"] if out else None
            return AuthResult(identity=self.identity, final=final)
        self.scheme = "ntlm"
        self.identity = Identity(canonical, "ntlm")
        return AuthResult(identity=self.identity)

    def _step(self, ctx, token: bytes) -> bytes | None:
        if not self.channel_binding or not token.startswith(b"NTLMSSP\x00") or token[8:12] != b"\x03\x00\x00\x00":
            return ctx.step(token)
        bindings = GssChannelBindings(application_data=self.channel_binding)
        try:
            return ctx.step(token, channel_bindings=bindings)
        except spnego.exceptions.BadBindingsError as exc:
            # Relaxed hardening: a client that sends no binding is accepted; a wrong binding is not.
            if "not present" not in str(exc):
                raise
            return ctx.step(token)

    def _credssp(self, value: str) -> AuthResult:
        if not self.tls:
            return AuthResult(denied=True)
        token = self._decode_token(value)
        if not token:
            return AuthResult(denied=True)
        if self._pending is None or self._pending_kind != "credssp" or token[:1] == b"\x16" and \
                self._pending.get_extra_info("auth_stage") != "TLS Handshake":
            self.reset()
            self._pending = spnego.server(protocol="credssp")
            self._pending_kind = "credssp"
        ctx = self._pending
        try:
            out = ctx.step(token)
        except spnego.exceptions.SpnegoError as exc:
            log.info("CredSSP authentication failed: %s", exc)
            self.reset()
            return AuthResult(denied=True)
        if not ctx.complete:
            if out:
                return AuthResult(challenge=[f"CredSSP {base64.b64encode(out).decode()}"])
            self.reset()
            return AuthResult(denied=True)
        canonical = self.accounts.canonical(ctx.client_principal)
        if canonical is None:
            self.reset()
            return AuthResult(denied=True)
        self._pending = None
        self.context = ctx
        self.scheme = "credssp"
        self.identity = Identity(canonical, "credssp", can_delegate=True)
        return AuthResult(identity=self.identity)

    # -- message encryption ---------------------------------------------------------------------------------
    @property
    def protocol_string(self) -> str:
        return CREDSSP_ENCRYPTED if self.scheme == "credssp" else SPNEGO_ENCRYPTED

    def unwrap_body(self, body: bytes) -> bytes:
        """Decrypt a ``multipart/encrypted`` (or ``multipart/x-multi-encrypted``) WinRM body."""
        if self.context is None:
            raise ValueError("no security context on this connection")
        message = b""
        pos = 0
        header_re = re.compile(rb"Length=(\d+)")
        octet = b"\tContent-Type: application/octet-stream\r\n"
        while True:
            start = body.find(MIME_BOUNDARY + b"\r\n", pos)
            if start < 0:
                break
            meta_end = body.find(MIME_BOUNDARY + b"\r\n", start + len(MIME_BOUNDARY) + 2)
            if meta_end < 0:
                raise ValueError("encrypted body: missing payload part")
            meta = body[start:meta_end]
            m = header_re.search(meta)
            if not m:
                raise ValueError("encrypted body: no OriginalContent length")
            length = int(m.group(1))
            payload_start = meta_end + len(MIME_BOUNDARY) + 2
            if not body.startswith(octet, payload_start):
                raise ValueError("encrypted body: payload part without octet-stream header")
            payload_start += len(octet)
            (head_len,) = struct.unpack("<i", body[payload_start:payload_start + 4])
            if self.scheme == "credssp":
                # TLS records: the payload runs to the next boundary.
                end = body.find(MIME_BOUNDARY, payload_start + 4)
                data = body[payload_start + 4:end]
                plain = self.context.unwrap_winrm(b"", data)
                pos = end
            else:
                header = body[payload_start + 4:payload_start + 4 + head_len]
                data_start = payload_start + 4 + head_len
                data = body[data_start:data_start + length]
                plain = self.context.unwrap_winrm(header, data)
                pos = data_start + length
            if len(plain) != length:
                raise ValueError("encrypted body: decrypted length does not match OriginalContent")
            message += plain
        return message

    def wrap_body(self, message: bytes) -> tuple[bytes, str]:
        """Encrypt a response the way Windows does; returns (body, Content-Type)."""
        protocol = self.protocol_string
        wrapped = self.context.wrap_winrm(message)
        # NTLM: signature length, signature, sealed data. CredSSP: TLS trailer length, then the whole record.
        head = struct.pack("<i", len(wrapped.header)) + wrapped.header + wrapped.data
        body = (
            MIME_BOUNDARY + b"\r\n"
            + b"\tContent-Type: " + protocol.encode() + b"\r\n"
            + b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(message)).encode() + b"\r\n"
            + MIME_BOUNDARY + b"\r\n"
            + b"\tContent-Type: application/octet-stream\r\n" + head
            + MIME_BOUNDARY + b"--\r\n"
        )
        content_type = f'multipart/encrypted;protocol="{protocol}";boundary="Encrypted Boundary"'
        return body, content_type
