"""Which WinRS request the running cmdlet serves, for the audit log: the shell, the command, and when the
command's input last arrived (the client's Send). Set by the WinRM layer on the command's thread, read by the
audit log; imports nothing of the lab, so any layer may use it.

Not a Windows behaviour: the lab's audit log is a rehearsal feature, and this is what lets a test tell a call
the client sent before it was killed from one it sent afterwards.
"""

from __future__ import annotations

import threading

_current = threading.local()


def serve(shell_id: str, command_id: str, input_received) -> None:
    """This thread now runs the command ``command_id``; ``input_received()`` gives the time (ISO 8601, UTC) its
    input last arrived."""
    _current.request = (shell_id, command_id, input_received)


def done() -> None:
    _current.request = None


def current() -> dict | None:
    request = getattr(_current, "request", None)
    if request is None:
        return None
    shell_id, command_id, input_received = request
    return {"shell": shell_id, "command": command_id, "input_received": input_received()}
