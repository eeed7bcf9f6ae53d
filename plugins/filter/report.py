# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the reports people read: where the migration stands, from the phase reports on the controller.

``migration_overview`` reads the report.json files of the migration's runs (those since its latest Phase 1 plan)
and says, for each object kind of the migration spec (section 3) that lives on a pool, how many are on OCS 2007 R2
and how many on Lync Server 2013 as of the latest report that counted them; the waves' outcomes; the timeline of
runs with durations; and what needs a person, each with its step. ``migration_overview_html`` renders that as one
self-contained HTML fragment (inline CSS and SVG, nothing fetched from a network).

Both run on the controller and only read report files; neither talks to a server.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re

from ansible.errors import AnsibleFilterError
from markupsafe import escape

# The object kinds of the migration spec's section 3 that are homed on a pool, in the spec's order, with the item
# number and the steps that move them. "counted_by" names the run that first counts a kind on OCS when Phase 1
# cannot (it has no OCS 2007 R2 read-back for it).
OBJECT_KINDS = (
    {"key": "users", "kind": "Users", "item": 4, "moved_in": "P6.2-P6.3, P8.2"},
    {"key": "conference_directories", "kind": "Conference directories", "item": 7, "moved_in": "P10.1",
     "counted_by": "Phase 4 (Get-CsConferenceDirectory)"},
    {"key": "response_groups", "kind": "Response Groups", "item": 8, "moved_in": "P9.1"},
    {"key": "dial_in_access_numbers", "kind": "Dial-in access numbers", "item": 10, "moved_in": "P9.2",
     "counted_by": "Phase 9 (P9.2)"},
    {"key": "exchange_um_contacts", "kind": "Exchange UM contacts", "item": 11, "moved_in": "P9.11",
     "counted_by": "Phase 9 (P9.11)"},
    {"key": "ocs_servers", "kind": "OCS 2007 R2 servers", "item": 33, "moved_in": "P10.3", "verb": "decommissioned"},
)

# Phase 10's names for what is still homed on a legacy pool (roles/decommission/tasks/legacy_objects.yml).
_DECOMMISSION_KINDS = {
    "user": "users",
    "conference directory": "conference_directories",
    "Response Group contact": "response_groups",
    "dial-in access number": "dial_in_access_numbers",
    "Exchange UM contact": "exchange_um_contacts",
}

# Phase 9's steps that move contact objects, by the start of their step name (roles/post_migration).
_PHASE9_MOVES = (("P9.1 ", "response_groups"), ("P9.2 ", "dial_in_access_numbers"), ("P9.11", "exchange_um_contacts"))

# The step each move report's waves belong to.
_MOVE_STEP = {"phase6": "P6.3", "phase8-users": "P8.2"}

_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_SIP_IN_TEXT = re.compile(r"sip:[^\s,;]+", re.IGNORECASE)


def _is_move_report(report):
    return "totals" in report and "waves" in report and "users" in report


def _phase_name(label):
    """'phase8-users' -> 'Phase 8'; labels that are not phases are given back as they are."""
    match = re.match(r"^phase(\d+)", label or "")
    return "Phase %s" % match.group(1) if match else (label or "")


def _seconds(report):
    try:
        started = dt.datetime.strptime(report.get("started") or "", _STAMP)
        finished = dt.datetime.strptime(report.get("finished") or "", _STAMP)
    except ValueError:
        return None
    return int((finished - started).total_seconds())


def _read_reports(report_dir, current):
    """The migration's reports in the order they were written: those since the latest real Phase 1 run, then
    ``current`` (whose report.json may not be written yet). Final migration reports are not inputs.

    Read newest first and only back to that Phase 1 run: older runs (other rehearsals) are never opened."""
    current_id = (current or {}).get("run_id")
    found = []
    if current and current.get("label") != "migration":
        found.append(current)
    started = bool(current and current.get("label") == "phase1" and not current.get("check_mode"))
    names = sorted(os.listdir(report_dir)) if report_dir and os.path.isdir(report_dir) else []
    for name in reversed(names):
        if started:
            break
        # Directory names are <stamp>-<label>[-<microseconds>]: a final report's is never an input.
        if "-migration" in name:
            continue
        path = os.path.join(report_dir, name, "report.json")
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                report = json.load(handle)
        except (OSError, ValueError):
            # A report being written by another run, or damaged: it cannot be counted, the others can.
            continue
        if not isinstance(report, dict) or report.get("label") == "migration" or report.get("run_id") == current_id:
            continue
        found.append(report)
        started = report.get("label") == "phase1" and not report.get("check_mode")
    found.reverse()
    return found


class _Count:
    """One kind's figures and the run that last set them."""

    def __init__(self, spec):
        self.spec = spec
        self.ocs = None
        self.lync = None
        self.total = None
        self.as_of = None

    def seen(self, report, ocs=None, lync=None):
        if ocs is not None:
            self.ocs = max(int(ocs), 0)
        if lync is not None:
            self.lync = max(int(lync), 0)
        if self.total is not None and self.ocs is not None and lync is None:
            self.lync = max(self.total - self.ocs, 0)
        self.as_of = report.get("run_id")

    def moved(self, report, count, back=False):
        """``count`` objects moved to Lync (or back to OCS when ``back``)."""
        if not count:
            return
        sign = -1 if back else 1
        if self.ocs is not None:
            self.ocs = max(self.ocs - sign * count, 0)
        self.lync = max((self.lync or 0) + sign * count, 0)
        if self.total is not None:
            # A rerun that says it moved what an earlier run moved cannot put more on Lync than there are.
            self.lync = min(self.lync, self.total)
        self.as_of = report.get("run_id")

    def as_dict(self):
        out = {"key": self.spec["key"], "kind": self.spec["kind"], "spec_item": self.spec["item"],
               "moved_in": self.spec["moved_in"], "verb": self.spec.get("verb", "moved"),
               "on_ocs": self.ocs, "on_lync": self.lync, "as_of": self.as_of}
        if self.ocs is None and self.spec.get("counted_by"):
            out["counted_by"] = self.spec["counted_by"]
        return out


def _standing(reports):
    counts = {spec["key"]: _Count(spec) for spec in OBJECT_KINDS}
    legacy_pools = set()
    for report in reports:
        if report.get("check_mode"):
            # A check run changes nothing, so it says nothing new about where objects are.
            continue
        label = report.get("label") or ""
        # A failed run's lists may be empty only because it stopped before reading them (its gate held): the
        # lists of what is where count from runs that succeeded; what a failed run moved is still moved.
        complete = report.get("status") == "succeeded"
        if label == "phase1" and complete:
            legacy_pools = {str(p).lower() for p in (report.get("decisions") or {}).get("legacy_pools") or []}
            inventory = report.get("inventory") or {}
            numbers = inventory.get("counts") or {}
            if isinstance(numbers.get("users"), int):
                counts["users"].total = numbers["users"]
                counts["users"].seen(report, ocs=numbers["users"], lync=0)
            if isinstance(numbers.get("response_groups"), int):
                counts["response_groups"].total = numbers["response_groups"]
                counts["response_groups"].seen(report, ocs=numbers["response_groups"], lync=0)
            servers = inventory.get("servers")
            if isinstance(servers, list):
                counts["ocs_servers"].seen(report, ocs=len(servers))
        if _is_move_report(report):
            moved = sum(1 for u in report.get("users") or [] if u.get("outcome") == "moved")
            counts["users"].moved(report, moved, back=bool(report.get("rollback")))
        if label == "phase8" and complete and isinstance(report.get("users_left_on_ocs"), list):
            counts["users"].seen(report, ocs=len(report["users_left_on_ocs"]))
        if complete and isinstance(report.get("conference_directories"), list):
            dirs = report["conference_directories"]
            on_ocs = sum(1 for d in dirs if str(d.get("pool", "")).lower() in legacy_pools) if legacy_pools else len(dirs)
            counts["conference_directories"].total = len(dirs)
            counts["conference_directories"].seen(report, ocs=on_ocs, lync=len(dirs) - on_ocs)
        for step in report.get("steps") or []:
            name, detail = str(step.get("step", "")), str(step.get("detail", ""))
            for prefix, key in _PHASE9_MOVES:
                if name.startswith(prefix) and step.get("status") == "run" and "moved" in detail:
                    counts[key].moved(report, len(_SIP_IN_TEXT.findall(detail)))
        if isinstance(report.get("conference_directories_moved"), list):
            counts["conference_directories"].moved(report, len(report["conference_directories_moved"]))
        if isinstance(report.get("decommissioned_servers"), list) and counts["ocs_servers"].ocs is not None:
            counts["ocs_servers"].seen(report, ocs=counts["ocs_servers"].ocs - len(report["decommissioned_servers"]))
        # Phase 10 reads everything still homed on a legacy pool: the last word on each kind it names.
        left = report.get("on_legacy_pools_before_decommissioning")
        if not isinstance(left, list):
            left = report.get("on_legacy_pools_at_entry")
        if complete and isinstance(left, list):
            for kind, key in _DECOMMISSION_KINDS.items():
                count = counts[key]
                on_ocs = sum(1 for o in left if o.get("kind") == kind)
                if count.total is None and count.lync is not None:
                    count.total = count.lync + (count.ocs or 0)
                count.seen(report, ocs=on_ocs, lync=None if count.total is not None else count.lync)
    for count in counts.values():
        if count.spec["key"] == "ocs_servers":
            count.lync = None
    return [counts[spec["key"]].as_dict() for spec in OBJECT_KINDS]


def _waves(reports):
    """The latest run of each wave, per move report label."""
    latest = {}
    for report in reports:
        if not _is_move_report(report):
            continue
        label = report.get("label") or ""
        for wave in report.get("waves") or []:
            totals = wave.get("totals") or {}
            row = {"report": label, "run_id": report.get("run_id"), "wave": wave.get("name"),
                   "step": _MOVE_STEP.get(label, _phase_name(label)), "check_mode": bool(report.get("check_mode")),
                   "rollback": bool(report.get("rollback")), "users": wave.get("users", totals.get("total", 0))}
            for outcome in ("moved", "unchanged", "would_move", "failed", "skipped"):
                row[outcome] = int(totals.get(outcome, 0) or 0)
            if isinstance(wave.get("moved_by_migration"), list):
                row["moved_by_migration"] = len(wave["moved_by_migration"])
            latest[(label, wave.get("name"), row["rollback"])] = row
    return list(latest.values())


# Move reports carry no title of their own (roles/move_users).
_MOVE_TITLES = {"phase6": "Phase 6 - move the test and pilot users", "phase8-users": "Phase 8 - move the remaining users"}


def _timeline(reports):
    return [{"label": r.get("label"), "phase": _phase_name(r.get("label")),
             "title": r.get("title") or ("Rollback of moved users" if r.get("rollback") else None)
             or _MOVE_TITLES.get(r.get("label")) or r.get("label"),
             "run_id": r.get("run_id"), "status": r.get("status"), "check_mode": bool(r.get("check_mode")),
             "started": r.get("started"), "finished": r.get("finished"), "seconds": _seconds(r)} for r in reports]


def _text(value):
    if isinstance(value, (list, tuple)):
        parts = [_text(v) for v in value]
        # A line that ends with a colon introduces the next one.
        return "".join(p + ("" if i == len(parts) - 1 else (" " if p.endswith(":") else "; "))
                       for i, p in enumerate(parts))
    if isinstance(value, dict):
        return value.get("msg") or value.get("message") or json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def _attention(reports):
    """What needs a person, from the latest run of each label: failures, gates that held, guided steps not
    confirmed, users that failed or were skipped, work deferred to a later phase, objects left on a legacy pool."""
    latest = {}
    for report in reports:
        latest[report.get("label")] = report
    done = {_phase_name(r.get("label")) for r in latest.values()
            if r.get("status") == "succeeded" and not r.get("check_mode")}
    out = []
    for label, report in latest.items():
        phase = _phase_name(label)
        where = {"phase": phase, "run_id": report.get("run_id")}
        if report.get("status") == "failed" and report.get("failure"):
            out.append(dict(where, step=phase, what="The run failed: " + _text(report["failure"])))
        for message in report.get("preflight_failures") or []:
            out.append(dict(where, step=phase + " gate", what="Nothing was changed: " + _text(message)))
        for step in report.get("guided_steps") or []:
            if step.get("status") not in ("confirmed", None):
                out.append(dict(where, step=step.get("id") or phase, what="%s (%s)" % (
                    step.get("title") or "", str(step.get("status")).replace("_", " "))))
        if _is_move_report(report):
            step = _MOVE_STEP.get(label, phase)
            for user in report.get("users") or []:
                if user.get("outcome") in ("failed", "skipped"):
                    out.append(dict(where, step="%s wave %s" % (step, user.get("wave")), what="%s %s: %s" % (
                        user.get("sip_address") or user.get("identity"), user.get("outcome"), _text(user.get("error")))))
            for user in report.get("not_on_target") or []:
                out.append(dict(where, step=step, what="%s is on %s, expected %s" % (
                    user.get("sip_address"), user.get("registrar_pool"), user.get("expected"))))
        for item in report.get("deferred") or []:
            # Work deferred to a later phase waits for that phase; once it has run for real, it is that phase's.
            later = re.match(r"^(Phase \d+)", str(item.get("where") or ""))
            if later and later.group(1) in done:
                continue
            out.append(dict(where, step=item.get("step") or phase, what="Deferred to %s" % (item.get("where") or "later")))
        for item in report.get("on_legacy_pools_before_decommissioning") or []:
            out.append(dict(where, step="P10", what=_text(item)))
    return out


def migration_overview(current, report_dir=None):
    """Where the migration stands: see the module docstring. ``current`` is the report being written (a dict);
    ``report_dir`` the directory holding the runs' report directories."""
    if current is not None and not isinstance(current, dict):
        raise AnsibleFilterError("migration_overview: expected the report as a dictionary, got %r" % type(current).__name__)
    reports = _read_reports(str(report_dir) if report_dir else None, current)
    waves = _waves(reports)
    totals = {k: sum(w[k] for w in waves if not w["check_mode"]) for k in ("moved", "failed", "skipped")}
    attention = _attention(reports)
    timeline = _timeline(reports)
    return {
        "standing": _standing(reports),
        "waves": waves,
        "wave_totals": totals,
        "timeline": timeline,
        "attention": attention,
        "runs": len(reports),
        "since": reports[0].get("run_id") if reports else None,
        "seconds": _busy_seconds(timeline),
    }


def _busy_seconds(timeline):
    """Seconds during which a run was going: a run inside another (Phase 8's user moves) is not counted twice."""
    spans = []
    for t in timeline:
        try:
            start = dt.datetime.strptime(t["started"] or "", _STAMP)
        except ValueError:
            continue
        if t["seconds"] is not None:
            spans.append((start, start + dt.timedelta(seconds=t["seconds"])))
    total, end = 0, None
    for start, finish in sorted(spans):
        if end is None or start > end:
            total += int((finish - start).total_seconds())
            end = finish
        elif finish > end:
            total += int((finish - end).total_seconds())
            end = finish
    return total


# -- HTML ---------------------------------------------------------------------------------------------------------

_CSS = """
.ov { font-family: Segoe UI, Helvetica, Arial, sans-serif; }
.ov h2 { margin-top: 1.2em; }
.ov-cards { display: flex; flex-wrap: wrap; gap: 0.8em; margin: 0.8em 0; }
.ov-card { border: 1px solid #bbb; border-radius: 6px; padding: 0.6em 0.9em; min-width: 13em; background: #fafafa; }
.ov-card h3 { margin: 0 0 0.4em 0; font-size: 1em; }
.ov-card .ov-n { font-size: 1.6em; font-weight: bold; }
.ov-ocs { color: #8a4b00; } .ov-lync { color: #0b5d1e; }
.ov-unknown { color: #666; font-style: italic; }
.ov-attn { border-left: 6px solid #c00; background: #fde2e2; padding: 0.4em 0.8em; }
.ov-ok { border-left: 6px solid #060; background: #e2f5e2; padding: 0.4em 0.8em; }
.ov table { border-collapse: collapse; margin: 0.6em 0; }
.ov th, .ov td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
.ov th { background: #eee; }
.ov td.num { text-align: right; white-space: nowrap; }
.ov td.when { white-space: nowrap; }
.ov tr.bad td { background: #fde2e2; }
"""


def _e(value):
    # The same escaping as Jinja's |e in the report templates (markupsafe).
    return str(escape("" if value is None else str(value)))


def _figure(value, key, side):
    if value is None:
        return '<span class="ov-n ov-unknown" data-kind="%s" data-side="%s">?</span>' % (_e(key), side)
    return '<span class="ov-n ov-%s" data-kind="%s" data-side="%s">%d</span>' % (side, _e(key), side, value)


def _bar(ocs, lync):
    """A 100-wide SVG bar: the OCS share, then the Lync share."""
    if ocs is None or lync is None or ocs + lync == 0:
        return ""
    left = round(200.0 * ocs / (ocs + lync), 1)
    return ('<svg width="200" height="10" role="img" aria-label="%d on OCS, %d on Lync">'
            '<rect x="0" y="0" width="%s" height="10" fill="#e0a050"/>'
            '<rect x="%s" y="0" width="%s" height="10" fill="#3a9a50"/></svg>') % (ocs, lync, left, left, 200 - left)


def _duration(seconds):
    if seconds is None:
        return ""
    minutes, sec = divmod(int(seconds), 60)
    return "%d min %02d s" % (minutes, sec) if minutes else "%d s" % sec


def _timeline_svg(timeline):
    """One bar per run, as long as the run took (the longest run fills the width), in the order they ran."""
    rows = [t for t in timeline if t["seconds"] is not None]
    if not rows:
        return ""
    longest = max(t["seconds"] for t in rows) or 1
    width, label_w, row_h = 560, 110, 16
    parts = ['<svg class="ov-timeline" width="%d" height="%d" role="img" aria-label="how long each run took">'
             % (label_w + width + 90, row_h * len(rows) + 4)]
    for i, t in enumerate(rows):
        w = max(width * t["seconds"] / longest, 2)
        colour = "#c33" if t["status"] == "failed" else ("#7a9cd6" if t["check_mode"] else "#3a9a50")
        y = i * row_h + 2
        parts.append('<text x="0" y="%d" font-size="11">%s</text>' % (y + 11, _e(t["label"])))
        parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (label_w, y, w, row_h - 4, colour))
        took = _e(_duration(t["seconds"]))
        parts.append('<text x="%.1f" y="%d" font-size="11">%s</text>' % (label_w + w + 4, y + 11, took))
    parts.append("</svg>")
    return "".join(parts)


def migration_overview_html(overview):
    """The overview as an HTML fragment (a <style> and a <section>); every value is escaped."""
    if not isinstance(overview, dict):
        raise AnsibleFilterError("migration_overview_html: expected the result of migration_overview")
    out = ["<style>%s</style>" % _CSS, '<section class="ov" id="overview">']
    attention = overview.get("attention") or []
    if attention:
        out.append('<div class="ov-attn" id="needs-a-person-summary"><strong>%d item(s) need a person</strong> '
                   '(see "Needs a person" below).</div>' % len(attention))
    else:
        out.append('<div class="ov-ok" id="needs-a-person-summary"><strong>Nothing needs a person.</strong></div>')

    out.append("<h2>Where things stand</h2>")
    out.append("<p>As of the latest run that counted each kind (migration spec, section 3); "
               '%d run(s) since %s.</p>' % (overview.get("runs") or 0, _e(overview.get("since"))))
    out.append('<div class="ov-cards" id="standing">')
    for s in overview.get("standing") or []:
        out.append('<div class="ov-card" data-kind="%s"><h3>%s <small>(spec item %s)</small></h3>' % (
            _e(s["key"]), _e(s["kind"]), _e(s["spec_item"])))
        out.append("<div>OCS 2007 R2: %s</div>" % _figure(s["on_ocs"], s["key"], "ocs"))
        if s["key"] != "ocs_servers":
            out.append("<div>Lync Server 2013: %s</div>" % _figure(s["on_lync"], s["key"], "lync"))
        out.append(_bar(s["on_ocs"], s["on_lync"]))
        note = ("not counted yet: %s counts it" % s["counted_by"]) if s.get("counted_by") else (
            "%s in %s" % (s.get("verb") or "moved", s["moved_in"]))
        out.append('<div><small>%s%s</small></div></div>' % (_e(note), (", as of " + _e(s["as_of"])) if s["as_of"] else ""))
    out.append("</div>")

    out.append("<h2>Waves</h2>")
    waves = overview.get("waves") or []
    if waves:
        with_journal = any("moved_by_migration" in w for w in waves)
        out.append('<table id="waves"><tr><th>Step</th><th>Wave</th><th>Run</th><th>Users</th><th>Moved</th>'
                   '<th>Unchanged</th><th>Would move</th><th>Failed</th><th>Skipped</th>%s</tr>'
                   % ("<th>Moved by the migration (journals)</th>" if with_journal else ""))
        for w in waves:
            run = _e(w["run_id"]) + (" (check mode)" if w["check_mode"] else "") + (" (rollback)" if w["rollback"] else "")
            cells = "".join('<td class="num" data-field="%s">%d</td>' % (k, w[k])
                            for k in ("users", "moved", "unchanged", "would_move", "failed", "skipped"))
            if with_journal:
                cells += '<td class="num" data-field="moved_by_migration">%s</td>' % _e(w.get("moved_by_migration", ""))
            out.append('<tr class="%s" data-wave="%s" data-report="%s"><td>%s</td><td>%s</td><td>%s</td>%s</tr>' % (
                "bad" if w["failed"] or w["skipped"] else "", _e(w["wave"]), _e(w["report"]), _e(w["step"]),
                _e(w["wave"]), run, cells))
        out.append("</table>")
    else:
        out.append("<p>No wave has run yet (Phase 6 moves the test and pilot waves).</p>")

    out.append("<h2>Timeline</h2>")
    timeline = overview.get("timeline") or []
    out.append(_timeline_svg(timeline))
    out.append('<table id="timeline"><tr><th>Run</th><th>Phase</th><th>Status</th><th>Started</th><th>Finished</th>'
               "<th>Duration</th></tr>")
    for t in timeline:
        out.append('<tr class="%s" data-run="%s"><td>%s</td><td>%s</td><td>%s%s</td><td class="when">%s</td><td class="when">%s</td>'
                   '<td class="num" data-seconds="%s">%s</td></tr>' % (
                       "bad" if t["status"] == "failed" else "", _e(t["run_id"]), _e(t["run_id"]), _e(t["title"]),
                       _e(t["status"]), " (check mode)" if t["check_mode"] else "", _e(t["started"]),
                       _e(t["finished"]), _e(t["seconds"]), _e(_duration(t["seconds"]))))
    busy = overview.get("seconds")
    out.append('</table><p>Time in runs (a run inside another counted once): '
               '<span id="total-seconds" data-seconds="%s">%s</span></p>' % (_e(busy), _e(_duration(busy))))

    out.append("<h2>Needs a person</h2>")
    if attention:
        out.append('<table id="attention"><tr><th>Step</th><th>What</th><th>Run</th></tr>')
        for a in attention:
            out.append('<tr class="bad"><td>%s</td><td>%s</td><td>%s</td></tr>'
                       % (_e(a["step"]), _e(a["what"]), _e(a["run_id"])))
        out.append("</table>")
    else:
        out.append('<p id="attention">Nothing: every guided step is confirmed and no run left work behind.</p>')
    out.append("</section>")
    return "\n".join(out)


class FilterModule(object):
    def filters(self):
        return {
            "migration_overview": migration_overview,
            "migration_overview_html": migration_overview_html,
        }
