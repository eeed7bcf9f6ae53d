"""Kerberos against a real MIT KDC on loopback: the lab is the HTTP/127.0.0.1 service with a keytab; the
collection's modules use pywinrm's kerberos transport with the test's forwardable ticket. With delegation the
lab's double-hop restriction is lifted; without it the failure explains the double hop."""

import os

import pytest
from harness import LAB_INVENTORY, LAB_PASSWORD, LabInstance, run_cases, score
from kdc import LoopbackKDC, missing_binaries

# One lab and one playbook run serve every test here: keep them on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_kerberos")


def _skip_reason():
    missing = missing_binaries()
    if missing:
        return "MIT Kerberos not installed (%s); `make kerberos-deps` installs it" % ", ".join(missing)
    try:
        import gssapi  # noqa: F401
        import kerberos  # noqa: F401  (pykerberos: pywinrm's kerberos transport)
    except ImportError as exc:
        return "python-gssapi/pykerberos missing (%s); `make kerberos-deps` installs them" % exc
    return None


@pytest.fixture(scope="module")
def kerberos_run(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("kerberos")
    kdc = LoopbackKDC(tmp / "kdc").start(LAB_PASSWORD)
    saved = {k: os.environ.get(k) for k in kdc.env}
    os.environ.update(kdc.env)     # the lab (acceptor: keytab) and the playbook (client: ccache) inherit it
    try:
        kdc.kinit(LAB_PASSWORD)
        with LabInstance(tmp / "lab", scenario="contoso-small", stage=6, double_hop=True) as lab:
            base = {"transport": "kerberos", "username": "lyncadmin@CONTOSO.NET", "password": "",
                    "message_encryption": "always"}
            cases = [
                {"id": "delegated", "module": "cs_user_info",
                 "args": dict(base, identities=["David Pelton"], kerberos_delegation=True)},
                {"id": "not-delegated", "module": "cs_user_info",
                 "args": dict(base, identities=["David Pelton"], kerberos_delegation=False)},
                {"id": "delegated-move", "module": "cs_user_move",
                 "args": dict(base, identities=["Hao Chen"], target_pool="pool02.contoso.net",
                              kerberos_delegation=True)},
            ]
            inventory = lab.write_inventory(LAB_INVENTORY, tmp / "inventory")
            results, audit, run = run_cases(tmp, lab, inventory, cases, args=["-vvvv"], extra_env=kdc.env)
            yield dict(results=results, audit=audit, output=run.output)
    finally:
        kdc.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_delegated_kerberos_lifts_the_double_hop(kerberos_run):
    results = kerberos_run["results"]
    assert [u["sip_address"] for u in results["delegated"]["users"]] == ["sip:david.pelton@contoso.net"], \
        results["delegated"].get("msg")
    assert results["delegated-move"]["summary"]["moved"] == 1, results["delegated-move"].get("msg")
    reads = [e for e in kerberos_run["audit"] if e["cmdlet"] == "Get-CsUser" and e["outcome"] == "ok"]
    assert reads and all("Credential" not in e["params"] for e in reads)


def test_kerberos_without_delegation_meets_the_double_hop(kerberos_run):
    failure = kerberos_run["results"]["not-delegated"]
    assert failure.get("failed") and "000004DC" in failure["msg"]
    assert "double hop" in failure["msg"] and "kerberos_delegation=true" in failure["msg"], failure["msg"]


def test_kerberos_runs_leak_no_password(kerberos_run):
    leaked = LAB_PASSWORD in kerberos_run["output"]
    score("kerberos (MIT KDC)", 1, 1, lost=0, duplicated=0, leaked=int(leaked), unexpected_changes=0)
    assert not leaked
