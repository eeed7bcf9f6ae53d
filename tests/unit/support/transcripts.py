"""Envelope transcripts recorded from the lab, replayed to the modules in unit tests.

As ansible.windows tests its action plugins on recorded module output, the unit tests here answer a module's
requests with what the lab answered when the same module ran with the same arguments
(tests/integration/modules/record_transcripts.py writes them; `make transcripts` re-records; an integration test
fails when a committed transcript no longer matches what the lab answers). A request that was not recorded is a
test failure naming the call, so a module that starts asking something else cannot pass on stale answers.

tests/unit/support/fake_lync.py stays for what a recording cannot show: faults injected at chosen points.
"""

import json
from pathlib import Path

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import decode_request
from ansible_collections.lync.migration.plugins.module_utils.lync.response import ResponseParser

TRANSCRIPTS = Path(__file__).resolve().parent.parent / "transcripts"
# What identifies a call in a recording: everything the module chose; the id is only its position.
CALL_KEYS = ("cmdlet", "params", "select", "expand", "name", "pass_credential")


def request_calls(stdin_bytes):
    """The calls of an encoded request, as the recording keeps them (no ids, no credential)."""
    return [dict((k, call[k]) for k in CALL_KEYS if k in call) for call in decode_request(stdin_bytes)["calls"]]


def load(name):
    return json.loads((TRANSCRIPTS / (name + ".json")).read_text(encoding="utf-8"))


class UnrecordedRequest(AssertionError):
    pass


class ReplaySession:
    """Stands in for the WinRM session (LyncModule.session_factory) and answers from one recorded step.

    Requests are matched by their calls, not by their order, since parallel shells send them in any order;
    each recorded exchange answers once."""

    exchanges = None  # the step's exchanges, set by replay_step

    def __init__(self, options):
        self.options = options
        self.pending = type(self).exchanges

    def open_shell(self):
        return "replay-shell"

    def close_shell(self, shell_id):
        pass

    def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
        sent = request_calls(stdin_bytes)
        for index, exchange in enumerate(self.pending):
            if exchange["calls"] == sent:
                del self.pending[index]
                break
        else:
            raise UnrecordedRequest("no recorded answer for the request %s; re-record the transcripts with "
                                    "`make transcripts` if the module now asks this on purpose"
                                    % json.dumps(sent)[:600])
        parser = ResponseParser(calls)
        data = "".join(line + "\r\n" for line in exchange["stdout"]).encode("utf-8")
        for kind, payload in parser.feed(data) + parser.finish():
            if kind == "result" and on_result:
                on_result(*payload)
        return parser


def with_tmp(value, tmp_path):
    """A case's arguments name files under ``{tmp}``: the test's own temporary directory."""
    if isinstance(value, str):
        return value.replace("{tmp}", str(tmp_path))
    if isinstance(value, list):
        return [with_tmp(v, tmp_path) for v in value]
    if isinstance(value, dict):
        return dict((k, with_tmp(v, tmp_path)) for k, v in value.items())
    return value


def replay_step(module, step, monkeypatch, run_module, tmp_path=None):
    """Run ``module`` with the recorded step's arguments against its recorded answers; returns (result, unused
    exchanges)."""
    from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

    exchanges = [dict(e) for e in step["exchanges"]]
    monkeypatch.setattr(ReplaySession, "exchanges", exchanges)
    monkeypatch.setattr(LyncModule, "session_factory", ReplaySession)
    connection = dict(step["connection"], password="not-the-recorded-one")
    out = run_module(module, with_tmp(step["args"], tmp_path), None, check_mode=step.get("check_mode", False),
                     diff=step.get("diff", False), monkeypatch=monkeypatch, connection=connection)
    return out, exchanges
