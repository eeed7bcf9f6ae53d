"""Transport security, through the modules as a playbook uses them: certificate validation on by default and a
wrong CA refused clearly; Basic over plain HTTP refused unless allowed; NTLM over HTTP encrypts every message
(a recording proxy between the module and the lab is the witness); CredSSP lifts the lab's double-hop
restriction; over NTLM cmdlet_credential passes -Credential."""

import socket
import threading

import pytest
from harness import LAB_INVENTORY, LAB_PASSWORD, LAB_USER, LabInstance, run_cases, score

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group('test_transport')


class RecordingProxy:
    """A TCP forwarder on 127.0.0.1 that keeps every byte the client sent."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = bytearray()
        self._lock = threading.Lock()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    with self._lock:
                        self.sent.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.server.close()


@pytest.fixture(scope="module")
def transport_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("transport")
    # Started first: the ports are known only once it listens.
    lab = LabInstance(tmp / "lab", scenario="contoso-small", stage=6, double_hop=True).start()
    other = LabInstance(tmp / "other-ca", scenario="contoso-small", stage=6)   # never started: only its (other) CA
    from lync_lab.winrm.certs import ensure_certificates
    ensure_certificates(other.state_dir, ["lync-fe01.contoso.net"])
    proxy = RecordingProxy(lab.http_port)
    https = {"server": "127.0.0.1", "port": lab.https_port, "scheme": "https"}
    read = {"identities": ["David Pelton"]}
    cases = [
        {"id": "https-default-validation", "module": "cs_user_info", "args": dict(read, **https, cmdlet_credential=True)},
        {"id": "https-wrong-ca", "module": "cs_user_info",
         "args": dict(read, **https, ca_trust_path=str(other.ca_path), cmdlet_credential=True)},
        {"id": "https-right-ca", "module": "cs_user_info",
         "args": dict(read, **https, ca_trust_path=str(lab.ca_path), cmdlet_credential=True)},
        {"id": "basic-over-http", "module": "cs_user_info",
         "args": dict(read, transport="basic", cmdlet_credential=True)},
        {"id": "basic-over-https", "module": "cs_user_info",
         "args": dict(read, **https, transport="basic", ca_trust_path=str(lab.ca_path), cmdlet_credential=True,
                     message_encryption="auto")},
        {"id": "ntlm-http-through-proxy", "module": "cs_user_info",
         "args": dict(read, server="127.0.0.1", port=proxy.port, scheme="http", cmdlet_credential=True)},
        {"id": "credssp-double-hop", "module": "cs_user_info",
         "args": dict(read, **https, transport="credssp", ca_trust_path=str(lab.ca_path))},
        {"id": "ntlm-double-hop-credential", "module": "cs_user_info", "args": dict(read, cmdlet_credential=True)},
        {"id": "ntlm-double-hop-no-credential", "module": "cs_user_info", "args": dict(read)},
    ]
    try:
        inventory = lab.write_inventory(LAB_INVENTORY, tmp / "inventory")
        results, audit, run = run_cases(tmp, lab, inventory, cases)
        yield dict(results=results, audit=audit, sent=bytes(proxy.sent), output=run.output)
    finally:
        proxy.close()
        lab.stop()


def found(result):
    return [u["sip_address"] for u in result.get("users") or []]


def test_certificate_validation_is_on_by_default(transport_run):
    result = transport_run["results"]["https-default-validation"]
    assert result.get("failed"), "an untrusted certificate was accepted by default"
    assert "certificate" in result["msg"].lower(), result["msg"]


def test_wrong_ca_fails_with_a_clear_message(transport_run):
    result = transport_run["results"]["https-wrong-ca"]
    assert result.get("failed")
    msg = result["msg"].lower()
    assert "certificate" in msg and ("ca_trust_path" in msg or "verify" in msg), result["msg"]
    assert found(transport_run["results"]["https-right-ca"]) == ["sip:david.pelton@contoso.net"]


def test_basic_refused_over_http_and_works_over_https(transport_run):
    refused = transport_run["results"]["basic-over-http"]
    assert refused.get("failed") and "clear text" in refused["msg"] and "https" in refused["msg"]
    assert found(transport_run["results"]["basic-over-https"]) == ["sip:david.pelton@contoso.net"]


def test_ntlm_over_http_encrypts_every_message(transport_run):
    assert found(transport_run["results"]["ntlm-http-through-proxy"]) == ["sip:david.pelton@contoso.net"]
    sent = transport_run["sent"]
    assert b"multipart/encrypted" in sent and b"application/HTTP-SPNEGO-session-encrypted" in sent
    # No SOAP envelope, shell command or password crossed the wire in clear text.
    for clear in (b"<s:Envelope", b"<env:Envelope", b"Envelope xmlns", b"powershell", b"EncodedCommand",
                  LAB_PASSWORD.encode(), LAB_PASSWORD.encode("utf-16-le")):
        assert clear not in sent, clear
    score("transport: ntlm over http", 1, 0, lost=0, duplicated=0,
          leaked=int(LAB_PASSWORD.encode() in sent), unexpected_changes=0)


def test_credssp_lifts_the_double_hop(transport_run):
    assert found(transport_run["results"]["credssp-double-hop"]) == ["sip:david.pelton@contoso.net"]
    credssp_reads = [e for e in transport_run["audit"] if e["cmdlet"] == "Get-CsUser" and e["outcome"] == "ok"
                     and "Credential" not in e["params"]]
    assert credssp_reads, "no Get-CsUser without -Credential succeeded (CredSSP should delegate)"


def test_ntlm_with_the_double_hop_passes_credential_or_explains(transport_run):
    results = transport_run["results"]
    assert found(results["ntlm-double-hop-credential"]) == ["sip:david.pelton@contoso.net"]
    with_credential = [e for e in transport_run["audit"] if e["cmdlet"] == "Get-CsUser"
                       and (e["params"].get("Credential") or {}).get("username") == LAB_USER]
    assert with_credential
    failure = results["ntlm-double-hop-no-credential"]
    assert failure.get("failed")
    for word in ("double hop", "credssp", "kerberos", "cmdlet_credential"):
        assert word in failure["msg"].lower(), failure["msg"]
