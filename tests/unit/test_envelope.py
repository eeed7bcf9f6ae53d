import base64
import json

import pytest
import tree_sitter
import tree_sitter_powershell

from ansible_collections.lync.migration.plugins.module_utils.lync import envelope
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import (
    Call,
    EnvelopeFatal,
    EnvelopeProtocolError,
    ResponseParser,
    build_request,
    decode_request,
    encode_request,
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


def test_envelope_is_powershell_3_compatible_and_small():
    script = envelope.ENVELOPE_SCRIPT
    assert "::new" not in script and "class " not in script
    assert len(script) < 2800
    exe, args = envelope.command_line()
    assert len(" ".join([exe] + args)) < 8191
    assert base64.b64decode(args[-1]).decode("utf-16-le") == script


def test_sha256_matches_the_script_and_the_lab_accepts_it():
    import hashlib
    assert envelope.ENVELOPE_SHA256 == hashlib.sha256(envelope.ENVELOPE_SCRIPT.encode("utf-8")).hexdigest()
    lab_envelope = pytest.importorskip("lync_lab.powershell.envelope")
    assert envelope.ENVELOPE_SHA256 in lab_envelope.KNOWN_ENVELOPE_SHA256


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
    assert stdin.endswith(b"\r\n") and b"\n" not in stdin[:-2]
    doc = json.loads(base64.b64decode(stdin.strip()).decode("utf-8"))
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
    assert not parser.done
    assert parser.missing_calls() == [1, 2]
    with pytest.raises(EnvelopeProtocolError):
        parser.finish()  # the torn last line is not valid JSON


def test_garbage_and_unknown_ids_are_protocol_errors():
    with pytest.raises(EnvelopeProtocolError):
        ResponseParser([Call("Get-CsUser")]).feed(b"WARNING: something\r\n")
    with pytest.raises(EnvelopeProtocolError):
        ResponseParser([Call("Get-CsUser")]).feed(lines({"id": "7", "ok": True, "objects": []}))
