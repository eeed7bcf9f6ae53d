# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recognising a cmdlet error by what does not change with the server's language.

PowerShell localises an error's message; its FullyQualifiedErrorId ("<error id>,<command class>"), its category
(an ErrorCategory name) and its exception type are identifiers and read the same on a French or German server.
Modules classify errors with these; where no identifier exists they keep an English text test, and
docs/localisation.md lists each such case.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def error_id(error):
    """The FullyQualifiedErrorId's first part: 'NoMatchingEventsFound' of
    'NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand'."""
    return (getattr(error, "fqid", "") or "").split(",", 1)[0].strip()


def exception_is(error, *names):
    """Whether the error's exception type is one of ``names`` (full names, or the last part: 'ManagementException')."""
    exc = getattr(error, "exception", "") or ""
    return any(exc == n or exc.rsplit(".", 1)[-1] == n for n in names)
