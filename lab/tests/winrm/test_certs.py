"""The lab CA and server certificate: created once, reused, extended for new servers without a new CA."""

from __future__ import annotations

import ipaddress

from cryptography import x509

from lync_lab.winrm.certs import ensure_certificates


def _sans(path):
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)), set(san.get_values_for_type(x509.IPAddress))


def test_certificates_cover_every_server_and_are_reused(tmp_path):
    first = ensure_certificates(tmp_path, ["lync-fe01.contoso.net", "ocs-fe01.contoso.net"])
    dns, ips = _sans(first.cert_path)
    assert {"lync-fe01.contoso.net", "ocs-fe01.contoso.net", "localhost"} <= dns
    assert ipaddress.ip_address("127.0.0.1") in ips
    ca_before = first.ca_path.read_bytes()
    cert_before = first.cert_path.read_bytes()
    assert (tmp_path / "tls" / "server-key.pem").stat().st_mode & 0o077 == 0   # private key not world-readable

    again = ensure_certificates(tmp_path, ["lync-fe01.contoso.net"])
    assert again.cert_path.read_bytes() == cert_before       # nothing re-issued

    extended = ensure_certificates(tmp_path, ["lync-fe02.contoso.net"])
    assert extended.ca_path.read_bytes() == ca_before         # clients that trust ca.pem keep trusting the lab
    dns, _ = _sans(extended.cert_path)
    assert {"lync-fe01.contoso.net", "ocs-fe01.contoso.net", "lync-fe02.contoso.net"} <= dns
