"""The one error type for "PowerShell reported an error", shared by every layer of the lab (imports nothing of it)."""

from __future__ import annotations


class PSError(Exception):
    """An error as PowerShell reports it: message, FullyQualifiedErrorId, category, target object.

    ``transient`` marks the errors a real server gives when it is momentarily busy (SQL back end
    unavailable and the like): a client may retry those, never the others.
    """

    def __init__(
        self,
        message: str,
        fqid: str,
        category: str = "NotSpecified",
        target: str | None = None,
        exception: str = "System.Management.Automation.RuntimeException",
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fqid = fqid
        self.category = category
        self.target = target
        self.exception = exception
        self.transient = transient

    def to_dict(self) -> dict:
        return {
            "message": self.message,
            "fqid": self.fqid,
            "category": self.category,
            "target": self.target,
            "exception": self.exception,
        }


def not_supported(what: str) -> PSError:
    """Something PowerShell or Lync can do that the lab does not model: said so, never faked."""
    return PSError(f"{what} is not supported by the lync.migration lab.", "LabNotSupported",
                   category="NotImplemented", target=what, exception="System.NotSupportedException")


class LabConfigError(Exception):
    """A bad scenario file or bad lab option: the message names the field and the fix."""
