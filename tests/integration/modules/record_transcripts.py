"""Record the envelope transcripts the unit tests replay (tests/unit/support/transcripts.py): each case of
tests/unit/support/transcript_cases.py runs its modules in-process against a fresh lab (contoso-small at the
case's stage) and keeps every request's calls and the lab's output lines.

    .venv/bin/python tests/integration/modules/record_transcripts.py [case ...]    (make transcripts)

test_transcripts_are_current.py records them again and compares, so a committed transcript is always what
the lab answers today.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "unit" / "support"))

import collection_root  # noqa: E402,F401  (makes ansible_collections.lync.migration importable)
from module_runner import run_module  # noqa: E402
from transcript_cases import CASES  # noqa: E402
from transcripts import TRANSCRIPTS, request_calls  # noqa: E402

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule  # noqa: E402

LAB_PASSWORD = "Lab-Passw0rd!"
# The connection as the transcript keeps it: the lab's admin host under its real name (the port a recording
# used is free-port luck, not part of what the lab answered).
RECORDED_CONNECTION = {"server": "lync-fe01.contoso.net", "port": 5985, "scheme": "http",
                       "username": "CONTOSO\\lyncadmin"}


def recording_factory(real_factory, exchanges):
    """A session class that runs the real one and keeps each request's calls and the raw output lines."""
    session_module = importlib.import_module(real_factory.__module__)
    real_parser = session_module.ResponseParser

    class RecordingParser(real_parser):
        def __init__(self, calls):
            super().__init__(calls)
            self.raw = b""

        def feed(self, data):
            self.raw += data
            return super().feed(data)

    class RecordingSession(real_factory):
        def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
            parser = super().run_envelope(shell_id, calls, stdin_bytes, on_result)
            lines = [line.strip() for line in parser.raw.decode("utf-8").split("\n") if line.strip()]
            exchanges.append({"calls": request_calls(stdin_bytes), "stdout": lines})
            return parser

    return session_module, real_parser, RecordingParser, RecordingSession


def record_case(name: str, state_dir: Path) -> dict:
    from lync_lab.config import LabConfig
    from lync_lab.instance import choose_port_offset, scenario_ports
    from lync_lab.lab import Lab

    case = CASES[name]
    offset = choose_port_offset(scenario_ports("contoso-small"), udp_ports=[55953])
    lab = Lab(LabConfig(stage=case["stage"], state_dir=state_dir, http_port=55985 + offset,
                        https_port=55986 + offset, port_offset=offset, dns_port=55953 + offset))
    lab.start()
    steps = []
    try:
        connection = {"server": "127.0.0.1", "port": 55985 + offset, "scheme": "http",
                      "username": RECORDED_CONNECTION["username"], "password": LAB_PASSWORD}
        for step in case["steps"]:
            exchanges: list[dict] = []
            module = importlib.import_module("ansible_collections.lync.migration.plugins.modules." + step["module"])
            session_module, real_parser, recording_parser, recording_session = recording_factory(
                LyncModule.session_factory, exchanges)
            with pytest.MonkeyPatch.context() as monkeypatch:
                monkeypatch.setattr(session_module, "ResponseParser", recording_parser)
                monkeypatch.setattr(LyncModule, "session_factory", recording_session)
                args = json.loads(json.dumps(step["args"]).replace("{tmp}", str(state_dir / "tmp")))
                (state_dir / "tmp").mkdir(exist_ok=True)
                run_module(module, args, None, check_mode=step.get("check_mode", False),
                           diff=step.get("diff", False), monkeypatch=monkeypatch, connection=connection)
            steps.append({"module": step["module"], "args": step["args"], "check_mode": step.get("check_mode", False),
                          "diff": step.get("diff", False), "connection": RECORDED_CONNECTION,
                          "exchanges": exchanges})
    finally:
        lab.stop()
    transcript = {"recorded_from": "lync-lab contoso-small, stage %d" % case["stage"], "case": name,
                  "steps": steps}
    text = json.dumps(transcript, ensure_ascii=False)
    if LAB_PASSWORD in text:
        raise AssertionError("the lab password reached a transcript")
    return transcript


def write(transcript: dict) -> Path:
    path = TRANSCRIPTS / (transcript["case"] + ".json")
    path.write_text(json.dumps(transcript, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return path


def main(names: list[str]) -> int:
    TRANSCRIPTS.mkdir(exist_ok=True)
    for name in names or sorted(CASES):
        with tempfile.TemporaryDirectory(prefix="lync-transcript-") as tmp:
            print("recorded", write(record_case(name, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
