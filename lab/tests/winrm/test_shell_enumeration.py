"""WS-Enumeration of remote shells (MS-WSMV 3.1.4.8.2 / 3.1.4.9.2): Enumerate, Pull and Release on the cmd shell
resource list the caller's own shells, as `winrs` and Get-WSManInstance -Enumerate see them."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest
import xmltodict
from winrm.exceptions import WSManFaultError
from winrm.protocol import Protocol

from winrm_support import PASSWORD, endpoint

CMD_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
RSP = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"


def client(listener, certs, user="CONTOSO\\lyncadmin", password=PASSWORD) -> Protocol:
    return Protocol(endpoint(listener), transport="basic", username=user, password=password,
                    ca_trust_path=str(certs.ca_path), operation_timeout_sec=2, read_timeout_sec=6)


def send(p: Protocol, action: str, body: dict) -> ET.Element:
    envelope = p.build_wsman_header(action=f"{ENUM}/{action}", resource_uri=CMD_URI)
    envelope["env:Body"] = body
    return ET.fromstring(p.send_message(xmltodict.unparse({"env:Envelope": envelope})))


def shells_in(root: ET.Element) -> list[dict]:
    return [{child.tag.split("}")[1]: (child.text or "") for child in shell} for shell in root.iter(f"{{{RSP}}}Shell")]


def seconds(duration: str) -> int:
    """P0DT0H1M5S -> 65 (the form Windows gives ShellInactivity and ShellRunTime)."""
    m = re.fullmatch(r"P(\d+)DT(\d+)H(\d+)M(\d+)S", duration)
    assert m, duration
    days, hours, minutes, secs = map(int, m.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + secs


def context_of(root: ET.Element) -> str | None:
    node = next(root.iter(f"{{{ENUM}}}EnumerationContext"), None)
    return node.text if node is not None else None


def ended(root: ET.Element) -> bool:
    return any(True for tag in (f"{{{ENUM}}}EndOfSequence", f"{{{WSMAN}}}EndOfSequence") for _ in root.iter(tag))


@pytest.fixture()
def clean(https_listener):
    """Each test starts with no shells on the module's listener."""
    https_listener.shells.close_all()
    yield https_listener
    https_listener.shells.close_all()


def test_optimized_enumerate_lists_only_the_callers_shells_with_their_idle_time(clean, certs):
    admin, other = client(clean, certs), client(clean, certs, "CONTOSO\\kim", "Other-Passw0rd!")
    mine = [admin.open_shell() for _ in range(3)]
    theirs = other.open_shell()
    time.sleep(1.1)
    admin.run_command(mine[0], "echo", ["busy"])           # a request on the shell resets its inactivity

    root = send(admin, "Enumerate", {"n:Enumerate": {"w:OptimizeEnumeration": None, "w:MaxElements": "32000"}})
    listed = shells_in(root)
    assert [s["ShellId"] for s in listed] == mine and theirs not in [s["ShellId"] for s in listed]
    assert ended(root) and context_of(root) is None
    assert all(s["Owner"] == "CONTOSO\\lyncadmin" and s["ResourceUri"] == CMD_URI for s in listed)
    idle = [seconds(s["ShellInactivity"]) for s in listed]
    assert idle[1] >= 1 and idle[2] >= 1 and idle[0] < idle[1]
    assert all(seconds(s["ShellRunTime"]) >= 1 for s in listed)
    # Optimized without MaxElements: one item (DSP0226's default), then a context for the rest.
    root = send(admin, "Enumerate", {"n:Enumerate": {"w:OptimizeEnumeration": None}})
    assert [s["ShellId"] for s in shells_in(root)] == mine[:1] and context_of(root) and not ended(root)
    assert [s["ShellId"] for s in shells_in(send(other, "Enumerate", {"n:Enumerate": {
        "w:OptimizeEnumeration": None}}))] == [theirs]


def test_unoptimized_enumerate_pages_through_pull_and_each_context_is_spent(clean, certs):
    admin = client(clean, certs)
    opened = [admin.open_shell() for _ in range(5)]
    first = send(admin, "Enumerate", {"n:Enumerate": None})
    assert shells_in(first) == [] and not ended(first)
    context = context_of(first)
    seen = []
    pulls = 0
    while context is not None:
        page = send(admin, "Pull", {"n:Pull": {"n:EnumerationContext": context, "n:MaxElements": "2"}})
        assert len(shells_in(page)) <= 2
        seen += [s["ShellId"] for s in shells_in(page)]
        spent, context = context, context_of(page)
        pulls += 1
        assert ended(page) == (context is None)
    assert seen == opened and pulls == 3
    with pytest.raises(WSManFaultError) as info:                # a spent context is gone
        send(admin, "Pull", {"n:Pull": {"n:EnumerationContext": spent}})
    assert info.value.wsman_fault_code == 2150858779


def test_release_ends_an_enumeration_and_other_users_cannot_pull_it(clean, certs):
    admin, other = client(clean, certs), client(clean, certs, "CONTOSO\\kim", "Other-Passw0rd!")
    admin.open_shell()
    context = context_of(send(admin, "Enumerate", {"n:Enumerate": None}))
    with pytest.raises(WSManFaultError) as info:
        send(other, "Pull", {"n:Pull": {"n:EnumerationContext": context}})
    assert info.value.wsman_fault_code == 2150858779
    context = context_of(send(admin, "Enumerate", {"n:Enumerate": None}))
    send(admin, "Release", {"n:Release": {"n:EnumerationContext": context}})
    with pytest.raises(WSManFaultError):
        send(admin, "Pull", {"n:Pull": {"n:EnumerationContext": context}})


def test_a_filter_on_the_shell_resource_is_refused(clean, certs):
    admin = client(clean, certs)
    with pytest.raises(WSManFaultError) as info:
        send(admin, "Enumerate", {"n:Enumerate": {"w:OptimizeEnumeration": None, "w:Filter": "ShellId='x'"}})
    assert info.value.wsman_fault_code == 2150858776 and "does not support filtering" in info.value.reason


def test_listed_shells_can_be_deleted_and_then_are_gone(clean, certs):
    """What the collection does with orphaned shells at MaxShellsPerUser: list, delete, list again."""
    admin = client(clean, certs)
    for _ in range(4):
        admin.open_shell()
    everything = {"n:Enumerate": {"w:OptimizeEnumeration": None, "w:MaxElements": "100"}}
    listed = shells_in(send(admin, "Enumerate", everything))
    assert len(listed) == 4
    for shell in listed:
        admin.close_shell(shell["ShellId"], close_session=False)
    assert shells_in(send(admin, "Enumerate", everything)) == []
    assert clean.shells.shells_of("CONTOSO\\lyncadmin") == 0
