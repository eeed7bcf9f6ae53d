"""The lab's TLS material: one private CA and one server certificate for every modelled server.

``ensure_certificates(state_dir, fqdns)`` creates, once, under ``<state_dir>/tls``:
  ca.pem / ca-key.pem          the lab CA (clients trust ca.pem: ``ca_trust_path=.../ca.pem``)
  server.pem / server-key.pem  the listener certificate; SANs: every FQDN given, ``localhost``, IP 127.0.0.1
It reuses them on later runs and only re-issues the server certificate (same CA) when a new FQDN appears,
so a client that trusted ca.pem once keeps trusting the lab.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TLSMaterial:
    """Paths of the lab CA and server certificate, and what a listener needs from them."""

    ca_path: Path
    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(self.cert_path), str(self.key_path))
        return ctx

    def channel_binding_data(self) -> bytes:
        """RFC 5929 tls-server-end-point data for NTLM channel binding (hash of the server certificate)."""
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        der = cert.public_bytes(serialization.Encoding.DER)
        algorithm = cert.signature_hash_algorithm
        name = algorithm.name if algorithm is not None and algorithm.name not in ("md5", "sha1") else "sha256"
        return b"tls-server-end-point:" + hashlib.new(name, der).digest()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _names_in(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {n.lower() for n in san.get_values_for_type(x509.DNSName)}


def _make_ca(tls_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lync-lab CA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lync_lab rehearsal")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(tls_dir / "ca-key.pem", _key_pem(key))
    (tls_dir / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _make_server(tls_dir: Path, ca_cert: x509.Certificate, ca_key, dns_names: list[str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    san = [x509.DNSName(n) for n in dns_names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(tls_dir / "server-key.pem", _key_pem(key))
    (tls_dir / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_certificates(state_dir: str | os.PathLike, fqdns: list[str]) -> TLSMaterial:
    """Create (once) or reuse the lab CA and a server certificate covering ``fqdns``, localhost and 127.0.0.1."""
    tls_dir = Path(state_dir) / "tls"
    tls_dir.mkdir(parents=True, exist_ok=True)
    material = TLSMaterial(tls_dir / "ca.pem", tls_dir / "server.pem", tls_dir / "server-key.pem")
    wanted = [n.lower() for n in fqdns if n] + ["localhost"]
    wanted = list(dict.fromkeys(wanted))

    ca_key_path = tls_dir / "ca-key.pem"
    if material.ca_path.exists() and ca_key_path.exists():
        ca_cert = x509.load_pem_x509_certificate(material.ca_path.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    else:
        ca_cert, ca_key = _make_ca(tls_dir)
        material.cert_path.unlink(missing_ok=True)

    if material.cert_path.exists() and material.key_path.exists():
        current = x509.load_pem_x509_certificate(material.cert_path.read_bytes())
        expires = current.not_valid_after_utc
        if set(wanted) <= _names_in(current) and expires > datetime.datetime.now(datetime.timezone.utc):
            return material
        wanted = list(dict.fromkeys(wanted + sorted(_names_in(current))))
    _make_server(tls_dir, ca_cert, ca_key, wanted)
    return material
