import base64
import json

import pytest
import tree_sitter
import tree_sitter_powershell

from ansible_collections.lync.migration.plugins.module_utils.lync import envelope
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import (
    Call,
    build_request,
    decode_request,
    encode_request,
)
from ansible_collections.lync.migration.plugins.module_utils.lync.response import (
    EnvelopeFatal,
    EnvelopeProtocolError,
    ResponseParser,
)

INJECTION = "x'; Remove-CsUser -Identity *; '"


def parse(text):
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(text.encode("utf-8")).root_node


def errors(node):
    found = []
    if node.type == "ERROR" or node.is_missing:
        found.append((node.start_point, node.text[:60]))
    for child in node.children:
        found.extend(errors(child))
    return found


def test_envelope_parses_without_errors_with_the_powershell_grammar():
    root = parse(envelope.ENVELOPE_SCRIPT)
    assert errors(root) == []
    assert not root.has_error


def test_grammar_check_would_catch_a_broken_script():
    # The test above can fail: an unbalanced brace is reported by the same grammar.
    assert errors(parse(envelope.ENVELOPE_SCRIPT.replace("W @{done=$true}", "W @{done=$true")))


# What Windows PowerShell 3.0 added (PowerShell-Docs about_Comparison_Operators: -in/-notin "introduced in
# Windows PowerShell 3.0"; about_Hash_Tables: [ordered] "Beginning in PowerShell 3.0"; ConvertTo-Json and
# ConvertFrom-Json are in the 3.0 reference only), and what came later (::new and classes, 5.0). The envelope runs
# on OCS 2007 R2 servers' PowerShell 2.0, so none may appear in it or in the loader.
POWERSHELL_3_ONLY = ("-in ", "-notin", "[ordered]", "ConvertTo-Json", "ConvertFrom-Json", "$PSItem", "::new",
                     "class ", "Get-CimInstance @", "-Raw")


@pytest.mark.parametrize("name", ["ENVELOPE_SCRIPT", "LOADER_SCRIPT"])
def test_envelope_and_loader_use_nothing_powershell_2_lacks(name):
    script = getattr(envelope, name)
    assert [token for token in POWERSHELL_3_ONLY if token.lower() in script.lower()] == []


def test_the_command_line_carries_only_the_loader_and_stays_under_cmds_limit():
    exe, args = envelope.command_line()
    assert len(" ".join([exe] + args)) < 8191
    assert base64.b64decode(args[-1]).decode("utf-16-le") == envelope.LOADER_SCRIPT
    stdin = encode_request(build_request([Call("Get-CsUser")]))
    first, second = stdin.split(b"\r\n")[:2]
    assert base64.b64decode(first).decode("utf-8") == envelope.ENVELOPE_SCRIPT
    assert json.loads(base64.b64decode(second))["v"] == 1


def test_lync_requests_ask_for_powershell_3_and_legacy_reads_do_not():
    assert build_request([Call("Get-CsUser")], modules=("Lync",))["min_ps"] == "3.0"
    assert "min_ps" not in build_request([Call("Get-WmiObject")], modules=())


def test_sha256_matches_the_script_and_the_lab_accepts_it():
    import hashlib
    assert envelope.ENVELOPE_SHA256 == hashlib.sha256(envelope.ENVELOPE_SCRIPT.encode("utf-8")).hexdigest()
    lab_envelope = pytest.importorskip("lync_lab.powershell.envelope")
    assert envelope.ENVELOPE_SHA256 in lab_envelope.KNOWN_ENVELOPE_SHA256
    assert envelope.LOADER_SHA256 in lab_envelope.KNOWN_LOADER_SHA256


def test_user_values_never_become_script_text():
    calls = [Call("Move-CsLegacyUser", {"Identity": INJECTION, "Target": "pool02.contoso.net"})]
    request = build_request(calls)
    stdin = encode_request(request)
    exe, args = envelope.command_line()
    command_line = " ".join([exe] + args)
    # The script is the same text whatever the request; the value travels only base64-encoded on stdin.
    assert envelope.encoded_command() == args[-1]
    assert INJECTION not in command_line
    assert "Remove-CsUser" not in envelope.ENVELOPE_SCRIPT
    assert INJECTION.encode() not in stdin
    assert decode_request(stdin)["calls"][0]["params"]["Identity"] == INJECTION
    other = encode_request(build_request([Call("Get-CsUser", {"Identity": "Ken Myer"})]))
    assert other != stdin and envelope.command_line() == (exe, args)


def test_request_encoding_is_base64_utf8_json_line_with_ids_by_position():
    calls = [Call("Get-CsUser", {"Identity": "Zoë Ångström"}, select=["SipAddress"]),
             Call("Move-CsLegacyUser", {"Identity": "a", "Target": "p", "ExcludeDialPlan": True})]
    stdin = encode_request(build_request(calls, credential=("CONTOSO\\u", "pw")))
    assert stdin.endswith(b"\r\n") and stdin.count(b"\n") == 2
    doc = json.loads(base64.b64decode(stdin.split(b"\r\n")[1]).decode("utf-8"))
    assert doc["v"] == 1 and doc["modules"] == ["Lync"]
    assert [c["id"] for c in doc["calls"]] == ["0", "1"]
    assert doc["calls"][0]["params"]["Identity"] == "Zoë Ångström"
    assert doc["calls"][0]["select"] == ["SipAddress"] and "select" not in doc["calls"][1]
    assert doc["calls"][1]["params"]["ExcludeDialPlan"] is True
    assert doc["credential"] == {"username": "CONTOSO\\u", "password": "pw"}


def test_request_refuses_modules_outside_the_allow_list():
    with pytest.raises(ValueError, match="allow-list"):
        build_request([Call("Get-CsUser")], modules=["ActiveDirectory"])


def test_read_only_calls_are_get_and_test():
    assert Call("Get-CsUser").read_only and Call("Test-CsRegistration").read_only
    assert not Call("Move-CsLegacyUser").read_only and not Call("Set-CsConferencingPolicy").read_only


def lines(*docs):
    return b"".join(json.dumps(d).encode() + b"\r\n" for d in docs)


def test_response_lines_are_handled_as_they_arrive_even_split_across_reads():
    calls = [Call("Get-CsUser", {"Identity": "a"}), Call("Get-CsUser", {"Identity": "b"})]
    parser = ResponseParser(calls)
    data = lines({"ready": True, "computer": "FE01", "ps": "3.0"},
                 {"id": "0", "ok": True, "objects": [{"SipAddress": "sip:a@contoso.net"}]},
                 {"id": "1", "ok": False, "error": {"message": "Management object not found", "fqid": "x",
                                                    "category": "ObjectNotFound", "target": "b",
                                                    "exception": "E", "transient": False}},
                 {"done": True})
    cut = data.index(b'"id": "1"') + 3
    first = parser.feed(data[:cut])
    assert [e[0] for e in first] == ["ready", "result"]
    assert first[1][1][1].objects == [{"SipAddress": "sip:a@contoso.net"}]
    second = parser.feed(data[cut:])
    assert [e[0] for e in second] == ["result", "done"]
    error = second[0][1][1].error
    assert (error.message, error.category, error.target, error.transient) == \
        ("Management object not found", "ObjectNotFound", "b", False)
    assert parser.done and parser.missing_calls() == []


def test_fatal_line_raises_with_the_servers_error():
    parser = ResponseParser([Call("Get-CsUser")])
    with pytest.raises(EnvelopeFatal) as info:
        parser.feed(lines({"fatal": {"message": "The specified module 'Lync' was not loaded",
                                     "fqid": "Modules_ModuleNotFound", "category": "ResourceUnavailable"}}))
    assert info.value.error.fqid == "Modules_ModuleNotFound"


def test_truncated_output_leaves_unanswered_calls_missing():
    calls = [Call("Get-CsUser", {"Identity": str(i)}) for i in range(3)]
    parser = ResponseParser(calls)
    data = lines({"ready": True}, {"id": "0", "ok": True, "objects": []})
    parser.feed(data + b'{"id": "1", "ok": tr')
    parser.finish()  # the torn last line is no envelope document: kept as host output, never a result
    assert not parser.done
    assert parser.missing_calls() == [1, 2]


def test_host_output_a_bom_and_a_plain_text_line_do_not_lose_the_batch():
    """Real PowerShell may start its UTF-8 output with a byte order mark, and a host-UI write (Write-Host, a
    cmdlet's progress text) lands on stdout as plain text: the results around it still count."""
    calls = [Call("Get-CsUser", {"Identity": "a"})]
    parser = ResponseParser(calls)
    events = parser.feed(b"\xef\xbb\xbf" + lines({"ready": True, "ps": "2.0"}) + b"WARNING: something\r\n"
                         + lines({"id": "0", "ok": True, "objects": ["x"]}, {"done": True}))
    assert [e[0] for e in events] == ["ready", "result", "done"]
    assert parser.host_output == ["WARNING: something"] and parser.results[0].objects == ["x"]


def test_output_that_is_not_utf8_is_a_permanent_error_naming_the_code_page():
    parser = ResponseParser([Call("Get-CsUser")])
    with pytest.raises(EnvelopeProtocolError) as info:
        parser.feed(lines({"ready": True}) + b'{"id": "0", "ok": true, "objects": ["Z\x94e"]}\r\n')
    assert "65001" in info.value.message and info.value.transient is False


def test_unknown_ids_are_protocol_errors():
    with pytest.raises(EnvelopeProtocolError):
        ResponseParser([Call("Get-CsUser")]).feed(lines({"id": "7", "ok": True, "objects": []}))
