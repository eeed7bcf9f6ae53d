# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the envelope answers: its output lines parsed into results (ResponseParser), a call's result and error,
and the two ways a run can fail as a whole (EnvelopeProtocolError, EnvelopeFatal). envelope.py re-exports these."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


class CmdletError:
    """An error as PowerShell reported it for one call (or for the whole envelope when fatal)."""

    __slots__ = ("message", "fqid", "category", "target", "exception", "transient", "outcome_unknown")

    def __init__(self, message, fqid="", category="NotSpecified", target=None, exception="", transient=False,
                 outcome_unknown=False):
        self.message = message
        self.fqid = fqid or ""
        self.category = category or "NotSpecified"
        self.target = target
        self.exception = exception or ""
        self.transient = bool(transient)
        # The request was sent but no answer came for this call: it may or may not have run.
        self.outcome_unknown = bool(outcome_unknown)

    @classmethod
    def from_json(cls, doc):
        if not isinstance(doc, dict):
            return cls("malformed error record from the envelope: %r" % (doc,), fqid="EnvelopeProtocolError")
        return cls(
            message=str(doc.get("message") or ""),
            fqid=doc.get("fqid") or "",
            category=doc.get("category") or "NotSpecified",
            target=doc.get("target") or None,
            exception=doc.get("exception") or "",
            transient=bool(doc.get("transient", False)),
        )

    def to_dict(self):
        return {
            "message": self.message,
            "fqid": self.fqid,
            "category": self.category,
            "target": self.target,
            "exception": self.exception,
            "transient": self.transient,
            "outcome_unknown": self.outcome_unknown,
        }

    def __repr__(self):
        return "CmdletError(%r, fqid=%r, category=%r)" % (self.message, self.fqid, self.category)


class CallResult:
    """What one Call produced: objects when ok, else a CmdletError. ``attempts`` counts sends."""

    __slots__ = ("call", "ok", "objects", "error", "attempts")

    def __init__(self, call, ok, objects=None, error=None, attempts=1):
        self.call = call
        self.ok = ok
        self.objects = objects if objects is not None else []
        self.error = error
        self.attempts = attempts

    def __repr__(self):
        if self.ok:
            return "CallResult(%s, ok, %d objects)" % (self.call.cmdlet, len(self.objects))
        return "CallResult(%s, %r)" % (self.call.cmdlet, self.error)


class EnvelopeProtocolError(Exception):
    """The server's output does not follow the envelope protocol, or stopped early (not a PowerShell error).
    ``parser`` holds the results that did arrive, when known. ``transient`` is False when sending again would
    give the same output (e.g. output in another code page than UTF-8)."""

    def __init__(self, message, parser=None, transient=True, out_of_memory=False):
        super(EnvelopeProtocolError, self).__init__(message)
        self.message = message
        self.parser = parser
        self.transient = transient
        # PowerShell ended under the shell's memory quota: the same calls need the same memory; fewer objects
        # per call can succeed (users.read_directory reads in pieces).
        self.out_of_memory = out_of_memory


class EnvelopeFatal(Exception):
    """The envelope could not start (PowerShell too old, module import failed, bad request): no call ran.
    ``ps`` and ``computer`` are the host's PowerShell version and name when the envelope said them."""

    def __init__(self, error, ps=None, computer=None):
        super(EnvelopeFatal, self).__init__(error.message)
        self.error = error
        self.ps = ps
        self.computer = computer


UTF8_BOM = b"\xef\xbb\xbf"
# Lines of host output kept per envelope run (the rest are counted, not kept).
MAX_HOST_OUTPUT_LINES = 100
ENVELOPE_KEYS = frozenset(("fatal", "ready", "done", "id"))


class ResponseParser:
    """Turns stdout bytes, fed as they arrive, into events: ('ready', doc), ('result', CallResult),
    ('done', None). Raises EnvelopeFatal on a fatal line, EnvelopeProtocolError on a result for a call that was
    not sent or on output that is not UTF-8.

    What real PowerShell may write besides the envelope's lines is kept, not fatal: a UTF-8 byte order mark
    before a line is dropped, and any line that is not one of the envelope's JSON documents (a host-UI write, a
    profile's banner) is host output (``host_output``, at most MAX_HOST_OUTPUT_LINES lines)."""

    def __init__(self, calls):
        self._calls = list(calls)
        self._pending = b""
        self.ready = None
        self.done = False
        self.results = {}
        self.host_output = []
        self.host_output_dropped = 0

    def feed(self, data):
        events = []
        self._pending += data
        while b"\n" in self._pending:
            line, self._pending = self._pending.split(b"\n", 1)
            event = self._parse_line(line)
            if event is not None:
                events.append(event)
        return events

    def finish(self):
        """Called at end of output: a last line without newline still counts."""
        events = []
        if self._pending.strip():
            line, self._pending = self._pending, b""
            event = self._parse_line(line)
            if event is not None:
                events.append(event)
        return events

    def missing_calls(self):
        """Indexes of calls for which no result line arrived (e.g. output truncated)."""
        return [i for i in range(len(self._calls)) if i not in self.results]

    def _host_line(self, text):
        if len(self.host_output) < MAX_HOST_OUTPUT_LINES:
            self.host_output.append(text)
        else:
            self.host_output_dropped += 1

    def _parse_line(self, line):
        line = line.strip()
        if line.startswith(UTF8_BOM):
            line = line[len(UTF8_BOM):]
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise EnvelopeProtocolError(
                "the server's output is not UTF-8 (byte 0x%02x at position %d of a line): the WinRM shell must use "
                "code page 65001 (UTF-8), which the collection asks for; a server that ignores it writes in its "
                "OEM code page (e.g. 437 or 850)" % (bytearray(line[exc.start:exc.start + 1])[0], exc.start),
                parser=self, transient=False)
        if not text:
            return None
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not ENVELOPE_KEYS.intersection(doc):
            self._host_line(text)
            return None
        if "fatal" in doc:
            raise EnvelopeFatal(CmdletError.from_json(doc["fatal"]), ps=doc.get("ps"), computer=doc.get("computer"))
        if doc.get("ready"):
            self.ready = doc
            return ("ready", doc)
        if doc.get("done"):
            self.done = True
            return ("done", None)
        if "id" in doc:
            try:
                index = int(doc["id"])
                call = self._calls[index]
            except (TypeError, ValueError, IndexError):
                raise EnvelopeProtocolError("result for unknown call id %r" % (doc.get("id"),))
            if doc.get("ok"):
                objects = doc.get("objects") or []
                if isinstance(objects, dict):  # a single object, if a server ever unwraps the array
                    objects = [objects]
                result = CallResult(call, True, objects=objects)
            else:
                result = CallResult(call, False, error=CmdletError.from_json(doc.get("error")))
            self.results[index] = result
            return ("result", (index, result))
        raise EnvelopeProtocolError("unexpected output from the envelope: %s" % text[:300])
