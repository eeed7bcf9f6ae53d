# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads too large for one answer of the host's shell, read again in pieces.

WinRM holds every shell to MaxMemoryPerShellMB (150 MB on WinRM 2.0 and on a WMF 3.0 host without KB2842230,
docs/hosts.md). A read of every user of a large deployment does not fit one answer there: PowerShell ends, and
the call's error has the fqid SHELL_OUT_OF_MEMORY. Such a read is sent again split by the first character of the
users' SIP addresses (their user part), and a piece that still does not fit is split by the next character.
The piece's filter is built here from fixed text and those characters only; a caller's own filter is combined
with it as the caller gave it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .transport_errors import SHELL_OUT_OF_MEMORY

# The characters a SIP address's user part starts with, in the order WMI and AD compare strings
# (case-insensitive); anything sorting before "0" or after "z" falls in the first or last piece.
SIP_CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_DEPTH = 3
PIECE_BATCH = 4        # pieces per PowerShell process: one process that runs out of memory loses at most these
PIECE_SHELLS = 4       # under WinRM 2.0's MaxShellsPerUser of 5


def out_of_memory(result):
    return not result.ok and result.error.fqid == SHELL_OUT_OF_MEMORY


def read_in_pieces(module, whole, pieces_of, root, what, first=(), answered=None):
    """(results of ``first``, objects) of the read ``whole`` (a Call), in pieces when one answer does not fit.

    ``pieces_of(key)`` gives the (key, Call) pieces that together read what the piece ``key`` holds (``root`` is
    the whole read); a piece whose key is None cannot be split further. ``answered``: the CallResult of
    ``whole`` when the caller already ran it. Any other error fails the task, naming ``what``."""
    if answered is None:
        outputs = module.run_calls(list(first) + [whole])
        first_results, result = outputs[:-1], outputs[-1]
    else:
        first_results, result = [], answered
    if result.ok:
        return first_results, result.objects
    if not out_of_memory(result):
        module.fail_json_from_error(result.error, cmdlet=what)
    objects = []
    pending = [root]
    for _depth in range(MAX_DEPTH):
        pieces = [piece for key in pending for piece in pieces_of(key)]
        results = module.client.run_queue([call for _key, call in pieces], batch_size=PIECE_BATCH,
                                          parallelism=PIECE_SHELLS, min_batch=1)
        pending = []
        for (key, _call), piece in zip(pieces, results):
            if piece.ok:
                objects.extend(piece.objects)
            elif out_of_memory(piece) and key is not None:
                pending.append(key)
            else:
                module.fail_json_from_error(piece.error, cmdlet=what)
        if not pending:
            return first_results, objects
    module.fail_json_from_error(result.error, cmdlet=what, msg=(
        "%s ran out of the host's shell memory even in pieces of at most a few hundred users: raise "
        "MaxMemoryPerShellMB on the host (and install KB2842230 on a WMF 3.0 host, docs/hosts.md)" % what))


def opath_pieces(base_filter, make_call):
    """pieces_of for Get-CsUser -Filter (OPATH has -like but no string ordering). A key is the start of the SIP
    address's user part: one piece per next character, and one for every address none of them matches (which
    cannot be split further)."""

    def pieces_of(prefix):
        likes = ['SipAddress -like "sip:%s%s*"' % (prefix, c) for c in SIP_CHARACTERS]
        rest = "-not (%s)" % " -or ".join(likes)
        if prefix:
            rest = '(SipAddress -like "sip:%s*") -and %s' % (prefix, rest)
        filters = [(prefix + c, like) for c, like in zip(SIP_CHARACTERS, likes)] + [(None, rest)]
        return [(key, make_call(f if not base_filter else "(%s) -and (%s)" % (base_filter, f))) for key, f in filters]

    return pieces_of


def wql_pieces(property_name, base_filter, make_call):
    """pieces_of for Get-WmiObject -Filter (WQL compares strings, so pieces are ranges). A key is a range
    (low, high) of values, None meaning open; the root is (None, None). A range is cut at its low end followed by
    each character (``sip:`` followed by each at the root), so every value falls in exactly one piece."""

    def pieces_of(bounds):
        low, high = bounds
        base = low if low is not None else "sip:"
        cuts = [base + c for c in SIP_CHARACTERS
                if (low is None or base + c > low) and (high is None or base + c < high)]
        edges = [low] + cuts + [high]
        pieces = []
        for piece_low, piece_high in zip(edges, edges[1:]):
            parts = []
            if piece_low is not None:
                parts.append("%s >= '%s'" % (property_name, piece_low))
            if piece_high is not None:
                parts.append("%s < '%s'" % (property_name, piece_high))
            if base_filter:
                parts.append("(%s)" % base_filter)
            # Below the first cut (values sorting before sip:0) nothing can be cut further.
            key = None if piece_low is None else (piece_low, piece_high)
            pieces.append((key, make_call(" AND ".join(parts))))
        return pieces

    return pieces_of
