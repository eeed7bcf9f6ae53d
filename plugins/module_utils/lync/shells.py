# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shells this process holds on each host, what it knows of each host's quotas, and how to read the
server's list of shells (WS-Man Enumerate) to find orphans."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import threading
import xml.etree.ElementTree as ET

# A shell of ours that has been idle this long (WS-Man ShellInactivity) while no thread of this process uses it
# is an orphan (its Delete was lost, or the process that opened it was killed): MaxShellsPerUser recovery
# deletes it. Commands in use are polled at least every operation_timeout, so live shells never get near it.
STALE_SHELL_MIN_SECONDS = 60


class ShellRegistry:
    """The shells this process holds per (endpoint, user): ``live`` ones some thread uses, and ``orphans`` whose
    Delete failed. MaxShellsPerUser recovery deletes orphans first and never touches a live shell. Also what is
    known of each endpoint's quotas: read from winrm/config, or learnt from a MaxShellsPerUser fault. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._live = {}
        self._orphans = {}
        self._quotas = {}
        self._learnt_max_shells = {}

    def quotas(self, key):
        """The quotas read for ``key`` (a dict, {} when the host would not tell), or None when never asked."""
        with self._lock:
            return self._quotas.get(key)

    def set_quotas(self, key, quotas):
        with self._lock:
            self._quotas[key] = dict(quotas)

    def learn_max_shells(self, key, holding):
        """A Create was refused for MaxShellsPerUser while this process held ``holding`` shells on ``key``."""
        if holding < 1:
            return
        with self._lock:
            known = self._learnt_max_shells.get(key)
            self._learnt_max_shells[key] = holding if known is None else min(known, holding)

    def max_shells(self, key):
        """The most shells ``key`` allows as far as known (winrm/config or a quota fault), or None."""
        with self._lock:
            configured = (self._quotas.get(key) or {}).get("MaxShellsPerUser")
            learnt = self._learnt_max_shells.get(key)
        known = [v for v in (configured, learnt) if v]
        return min(known) if known else None

    def opened(self, key, shell_id):
        with self._lock:
            self._live.setdefault(key, set()).add(shell_id)

    def closed(self, key, shell_id):
        with self._lock:
            self._live.get(key, set()).discard(shell_id)
            self._orphans.get(key, set()).discard(shell_id)

    def orphaned(self, key, shell_id):
        with self._lock:
            self._live.get(key, set()).discard(shell_id)
            self._orphans.setdefault(key, set()).add(shell_id)

    def live(self, key):
        with self._lock:
            return set(self._live.get(key, ()))

    def orphans(self, key):
        with self._lock:
            return set(self._orphans.get(key, ()))


SHELLS = ShellRegistry()


def same_account(owner, username):
    """Whether a shell's Owner (``DOMAIN\\user`` as Windows shows it) is the account ``username`` names
    (``DOMAIN\\user``, ``user@domain`` or ``user``)."""
    def bare(name):
        name = (name or "").strip().lower()
        return name.split("\\")[-1].split("@")[0]
    return bool(owner) and bool(username) and bare(owner) == bare(username)


def duration_seconds(text):
    """xs:duration (PT12.000S, P0DT0H1M5S) in seconds; None when absent or unreadable."""
    m = re.match(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", (text or "").strip())
    if not m or not (text or "").strip():
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


# The WS-Man Enumerate of the cmd shell resource that lists an account's shells (as ``winrs`` and
# Get-WSManInstance -Enumerate read them).
CMD_RESOURCE_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ENUMERATION_NS = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WSMAN_NS = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
SHELL_NS = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
ACTION_ENUMERATE = ENUMERATION_NS + "/Enumerate"
ACTION_PULL = ENUMERATION_NS + "/Pull"
# Bounds one enumeration (pages of MAX_ENUMERATION_ELEMENTS); a user has at most MaxShellsPerUser shells.
MAX_ENUMERATION_ELEMENTS = 100
MAX_ENUMERATION_PULLS = 20


def enumeration_action(context):
    """Enumerate for the first page, Pull with the server's ``context`` for the next ones."""
    return ACTION_ENUMERATE if context is None else ACTION_PULL


def enumeration_body(context):
    if context is None:
        return {"n:Enumerate": {"w:OptimizeEnumeration": None, "w:MaxElements": str(MAX_ENUMERATION_ELEMENTS)}}
    return {"n:Pull": {"n:EnumerationContext": context, "n:MaxElements": str(MAX_ENUMERATION_ELEMENTS)}}


def parse_shell_page(answer):
    """One Enumerate/Pull answer: (shells as dicts with ShellId, Owner, ClientIP, ShellInactivity in seconds or
    None, the context of the next page or None at the end)."""
    root = ET.fromstring(answer)
    items = []
    for shell in root.iter("{%s}Shell" % SHELL_NS):
        def text(name, shell=shell):
            node = shell.find("{%s}%s" % (SHELL_NS, name))
            return (node.text or "").strip() if node is not None else ""
        items.append({"ShellId": text("ShellId"), "Owner": text("Owner"), "ClientIP": text("ClientIP"),
                      "ShellInactivity": duration_seconds(text("ShellInactivity"))})
    end = any(node is not None for ns in (ENUMERATION_NS, WSMAN_NS) for node in root.iter("{%s}EndOfSequence" % ns))
    next_context = None
    if not end:
        node = next(root.iter("{%s}EnumerationContext" % ENUMERATION_NS), None)
        next_context = (node.text or "").strip() if node is not None else None
    return items, next_context or None
