"""Fixtures for the WinRM layer tests (module-scoped listeners on free ports)."""

from __future__ import annotations

import pytest

from lync_lab.winrm.certs import ensure_certificates
from lync_lab.winrm.listener import WinRMListener
from winrm_support import SERVER, make_lab


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("winrm-lab")


@pytest.fixture(scope="module")
def certs(lab_dir):
    return ensure_certificates(lab_dir, [SERVER.fqdn])


@pytest.fixture(scope="module")
def lab(lab_dir):
    return make_lab(lab_dir)


@pytest.fixture(scope="module")
def http_listener(lab):
    listener = WinRMListener(lab, SERVER, "127.0.0.1", 0, tls=None)
    listener.start()
    yield listener
    listener.stop()


@pytest.fixture(scope="module")
def https_listener(lab, certs):
    listener = WinRMListener(lab, SERVER, "127.0.0.1", 0, tls=certs)
    listener.start()
    yield listener
    listener.stop()

