# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wave checks Phase 1 (roles/plan) and Phase 6 (roles/move_users, the rollback too) share: one
implementation, called through the filters of plugins/filter/waves.py (the option checks: option_checks.py).

Every check returns sentences that name the option (or the wave and the file), what is wrong and the fix; none
talks to a server. What needs the server (does a user exist, which two names are one user) is resolved by the
roles and passed in (``wave_overlaps``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import os
import re

from ansible_collections.lync.migration.plugins.module_utils.lync.identity import identity_problem, text_problem
from ansible_collections.lync.migration.plugins.module_utils.lync.option_checks import show as _show, type_name

# A wave's name becomes a file name: its journal <journal dir>/<name>.jsonl (and <name>.rollback.jsonl), and a
# part of the report. Letters (any script), digits, spaces inside, '.', '_' and '-'; nothing a path gives meaning
# to ('/', '\\', '..', ':'), no control character, at most 64 characters.
WAVE_NAME_RULE = ("letters, digits, '_', '-', '.' and spaces inside the name (it starts with a letter or digit, "
                  "has no '..', at most 64 characters)")
_WAVE_NAME = re.compile(r"^[^\W_][\w .\-]*$", re.UNICODE)
_WAVE_NAME_MAX = 64
# Reserved: the rollback journal of wave <x> is <x>.rollback.jsonl.
_RESERVED_SUFFIX = ".rollback"

# Windows PowerShell 5.1's Export-Csv writes this first line unless given -NoTypeInformation; Import-Csv reads
# past it (office-docs: Export-Csv, -NoTypeInformation; Import-Csv).
_TYPE_LINE = re.compile(r"^#TYPE\s")
_DELIMITERS = (",", ";", "\t")


class WaveInputError(ValueError):
    """A wave's input (its CSV file) cannot be used; the message names the file and the fix."""


def wave_name_problem(name):
    """Why ``name`` cannot name a wave (the fix included), or None."""
    if not isinstance(name, str):
        return "is %s, not a string" % type_name(name)
    problem = text_problem(name)
    if problem:
        return "has %s; use %s" % (problem, WAVE_NAME_RULE) if problem != "empty" else "is empty"
    bad = sorted({c for c in name if not (c.isalnum() or c in "_-. ")})
    if bad:
        shown = ", ".join(_show(c) for c in bad)
        return "contains %s: a wave name is part of a file name (its journal, <name>.jsonl); use %s, e.g. %s" % (
            shown, WAVE_NAME_RULE, _show(re.sub(r"[^\w .\-]+", "-", name, flags=re.UNICODE).strip("-. ") or "wave1"))
    if ".." in name:
        return "contains '..': a wave name is part of a file name (its journal, <name>.jsonl); use %s" % WAVE_NAME_RULE
    if not _WAVE_NAME.match(name):
        return "must start with a letter or a digit; use %s" % WAVE_NAME_RULE
    if len(name) > _WAVE_NAME_MAX:
        return "is %d characters long; use at most %d" % (len(name), _WAVE_NAME_MAX)
    if name.lower().endswith(_RESERVED_SUFFIX):
        return "ends with %r, which the rollback journal of another wave uses (<wave>.rollback.jsonl); " \
               "choose another name" % _RESERVED_SUFFIX
    return None


def parse_identity_csv(raw, source):
    """The ``identity`` column of a CSV file's bytes, values kept exactly as written (spaces included).

    Read as Excel and PowerShell write CSV: UTF-8 with or without a byte order mark, UTF-16 with one (Out-File,
    Export-Csv -Encoding Unicode, Excel's "Unicode Text"), CRLF or LF, fields separated by ',' or by ';' or a tab
    (the list separator of the locale), and a Windows PowerShell 5.1 ``#TYPE`` first line. Blank lines are
    ignored. Raises WaveInputError naming ``source`` and the fix.
    """
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise WaveInputError("%s starts with a UTF-16 byte order mark but is not valid UTF-16; save it again "
                                 "as UTF-8 (Export-Csv -Encoding UTF8, or Excel's CSV UTF-8)" % source)
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise WaveInputError("%s is not UTF-8 (invalid byte at line %d); save it as UTF-8 (Excel: CSV UTF-8; "
                                 "PowerShell: Export-Csv -Encoding UTF8) and run again" % (source, line))
    lines = text.splitlines(True)
    if lines and _TYPE_LINE.match(lines[0]):
        lines = lines[1:]
    text = "".join(lines)
    header = None
    for delimiter in _DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise WaveInputError("%s is empty; it needs a header row with an 'identity' column" % source)
        names = [h.strip().lower() for h in header]
        if "identity" in names:
            break
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        raise WaveInputError("%s has no 'identity' column (its header is: %s); add a header row whose column of "
                             "user names is called identity" % (source, ", ".join(header)))
    col = names.index("identity")
    identities = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        identities.append(row[col] if col < len(row) else "")
    return identities


def _csv_path(path, base_dir):
    return path if os.path.isabs(path) or not base_dir else os.path.join(base_dir, path)


def read_wave_csv(path, base_dir, wave):
    """(identities, resolved path) of wave ``wave``'s CSV file; WaveInputError names the wave, the path and why."""
    full = _csv_path(path, base_dir)
    where = "wave %s: its csv file %s" % (wave, full)
    if not os.path.exists(full):
        hint = " (a relative path is relative to the inventory directory, %s)" % base_dir \
            if base_dir and not os.path.isabs(path) else ""
        raise WaveInputError("%s does not exist%s; check the path in the wave's csv" % (where, hint))
    if os.path.isdir(full):
        raise WaveInputError("%s is a directory; csv names one file" % where)
    try:
        with open(full, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise WaveInputError("%s cannot be read (%s); make it readable by the user running the playbook"
                             % (where, exc.strerror or exc))
    return parse_identity_csv(raw, "wave %s: the csv file %s" % (wave, full)), full


def check_waves(waves, option="lync_migration_waves", base_dir=None, allow_empty=False,
                allow_empty_option="move_users_allow_empty", selected=None, selected_option="move_users_waves"):
    """Check the wave definitions ``waves`` (as written in the inventory) and, if given, the names
    ``selected`` (move_users_waves) that choose among them.

    Returns {problems: [sentence], waves: [{name, identities, csv, ou, filter}], malformed: [{wave, identity,
    reason}]}: ``waves`` are the waves this run covers (those ``selected`` names, in its order, else all), each
    with its identities and its CSV file's; ``malformed`` are identities the
    identity rule refuses (identity.identity_problem), which the caller decides about (Phase 6's
    move_users_on_invalid). A wave whose only source is an empty list or a CSV file with no user is a problem
    unless ``allow_empty``.
    """
    problems, checked, malformed = [], [], []
    if waves is None:
        waves = []
    if not isinstance(waves, list):
        problems.append("%s is %s; it must be a list of waves, each {name: ..., identities: [...]} (or csv, ou, "
                        "filter)" % (option, type_name(waves)))
        waves = []
    names_seen = {}
    # Only the waves this run moves have their users and files checked (a later wave's CSV may not exist yet);
    # every wave's name is checked, since they share the journal directory.
    selected_names = None
    if isinstance(selected, list) and selected:
        selected_names = {s.lower() for s in selected if isinstance(s, str)}
    for n, wave in enumerate(waves, start=1):
        label = "%s[%d]" % (option, n - 1)
        if not isinstance(wave, dict):
            problems.append("%s is %s (%s), not a wave: give each wave as {name: ..., identities: [...]}"
                            % (label, type_name(wave), _show(wave) if isinstance(wave, (str, int)) else "..."))
            continue
        name = wave.get("name")
        if name is None or name == "":
            problems.append("%s has no name: give every wave a name (P1.1), e.g. name: pilot" % label)
            name = "#%d" % n
        else:
            why = wave_name_problem(name)
            if why:
                problems.append("Wave name %s (%s) %s" % (_show(name), label, why))
            key = str(name).lower()
            if key in names_seen:
                problems.append("Wave name %s is used twice in %s (%s and %s): each wave needs a name of its own; "
                                "its journal is <journal dir>/<name>.jsonl, so two waves of one name would share "
                                "a journal" % (_show(name), option, names_seen[key], label))
            else:
                names_seen[key] = label
            name = str(name)
        chosen = selected_names is None or name.lower() in selected_names
        if not chosen:
            checked.append({"name": name, "identities": [], "csv": wave.get("csv"), "ou": wave.get("ou"),
                            "filter": wave.get("filter"), "checked": False})
            continue
        unknown = sorted(set(wave) - {"name", "identities", "csv", "ou", "filter"})
        if unknown:
            problems.append("Wave %s has unknown key(s) %s; a wave takes name, identities, csv, ou and filter"
                            % (name, ", ".join(unknown)))
        identities = wave.get("identities")
        own = []
        if identities is not None:
            if isinstance(identities, str):
                problems.append("Wave %s: identities is one string (%s); give a list, one user per item: "
                                "identities: [%s]" % (name, _show(identities), _show(identities)))
            elif not isinstance(identities, list):
                problems.append("Wave %s: identities is %s; give a list of user names, e.g. identities: "
                                "[\"David Pelton\"]" % (name, type_name(identities)))
            else:
                for identity in identities:
                    if not isinstance(identity, str):
                        problems.append("Wave %s: identities has %s (%s) where a user name (a string) is expected"
                                        % (name, type_name(identity), _show(identity)))
                    else:
                        own.append(identity)
        from_csv, csv_ok = [], True
        csv_path = wave.get("csv")
        if csv_path is not None:
            if not isinstance(csv_path, str) or not csv_path:
                problems.append("Wave %s: csv is %s; give the path of a CSV file"
                                % (name, "empty" if csv_path == "" else type_name(csv_path)))
                csv_ok = False
            else:
                try:
                    from_csv, csv_path = read_wave_csv(csv_path, base_dir, name)
                except WaveInputError as exc:
                    message = str(exc)
                    problems.append(message[0].upper() + message[1:])
                    csv_ok = False
        for key in ("ou", "filter"):
            value = wave.get(key)
            if value is not None and (not isinstance(value, str) or text_problem(value) in ("empty", "only whitespace")):
                problems.append("Wave %s: %s is %s; give a %s" % (
                    name, key, _show(value) if isinstance(value, str) else type_name(value),
                    "distinguished name such as OU=Sales,DC=contoso,DC=net" if key == "ou"
                    else "Get-CsUser -Filter expression such as Department -eq 'Sales'"))
        has_source = any(wave.get(k) is not None for k in ("ou", "filter"))
        all_identities = own + from_csv
        if not has_source and not all_identities and not allow_empty and csv_ok \
                and (identities is None or isinstance(identities, list)):
            if csv_path is not None:
                problems.append("Wave %s is empty: its csv file %s has a header row but no users; an empty wave "
                                "moves nobody. Add the users to the file, remove the wave, or set %s: true to "
                                "accept an empty wave" % (name, csv_path, allow_empty_option))
            else:
                problems.append("Wave %s is empty (no users): give it identities, a csv file, an ou or a filter, "
                                "remove it, or set %s: true to accept an empty wave" % (name, allow_empty_option))
        for identity in all_identities:
            reason = identity_problem(identity)
            if reason:
                malformed.append({"wave": name, "identity": identity, "reason": reason})
        checked.append({"name": name, "identities": all_identities, "csv": csv_path if isinstance(csv_path, str) else None,
                        "ou": wave.get("ou"), "filter": wave.get("filter"), "checked": True})
    chosen_waves = [w for w in checked if w["checked"]]
    if selected is not None:
        problems += selected_wave_problems(selected, [w["name"] for w in checked], selected_option, option)
        if isinstance(selected, list) and selected:
            by_name = {w["name"].lower(): w for w in checked}
            chosen_waves = [by_name[s.lower()] for s in selected if isinstance(s, str) and s.lower() in by_name]
    return {"problems": problems, "waves": chosen_waves, "malformed": malformed}


def selected_wave_problems(selected, defined=None, option="move_users_waves", defined_option="lync_migration_waves"):
    """``selected`` (the names of the waves to run, move_users_waves) is a list of wave names that follow the
    wave-name rule and, when ``defined`` is given, name defined waves."""
    if isinstance(selected, str):
        return ["%s is a string (%s); it must be a list of wave names. On the command line give it as JSON: "
                "-e '{\"%s\": [%s]}'" % (option, _show(selected), option,
                                         ", ".join(_show(s.strip()) for s in selected.split(",") if s.strip()))]
    if not isinstance(selected, list):
        return ["%s is %s; it must be a list of wave names, e.g. -e '{\"%s\": [\"test\"]}'"
                % (option, type_name(selected), option)]
    problems = []
    for name in selected:
        why = wave_name_problem(name)
        if why:
            problems.append("%s: the wave name %s %s" % (option, _show(name), why))
    if defined is not None:
        known = {d.lower() for d in defined}
        unknown = [s for s in selected if isinstance(s, str) and not wave_name_problem(s) and s.lower() not in known]
        if unknown:
            problems.append("No wave is named %s; the waves defined (%s) are: %s; name one of them in %s"
                            % (", ".join(unknown), defined_option, ", ".join(defined) or "none", option))
    return problems


def wave_overlaps(waves_users):
    """Users in more than one wave, however each wave names them.

    ``waves_users`` maps a wave name to its users as resolved: strings, or dicts with ``sip_address`` (as
    cs_user_info returns them, or as the plan resolves them from WMI) and optionally ``identity`` (the name as
    the wave wrote it). Two names of one user (a SIP address in one wave, the display name in another) are one
    user. Returns [{user, waves, names}] in first-seen order; ``names`` is {wave: name as written}."""
    seen, order = {}, []
    for wave, users in (waves_users or {}).items():
        for user in users or []:
            if isinstance(user, dict):
                key = user.get("sip_address") or user.get("SipAddress") or user.get("identity")
                written = user.get("identity") or key
            else:
                key = written = user
            if key is None:
                continue
            norm = key.lower() if isinstance(key, str) else key
            if norm not in seen:
                seen[norm] = {"user": key, "waves": [], "names": {}}
                order.append(norm)
            if wave not in seen[norm]["waves"]:
                seen[norm]["waves"].append(wave)
                seen[norm]["names"][wave] = written
    return [seen[k] for k in order if len(seen[k]["waves"]) > 1]


def overlap_messages(overlaps, suffix="keep the user in one wave only"):
    """One sentence per overlap of ``wave_overlaps``, naming the forms when the waves name the user differently."""
    out = []
    for o in overlaps:
        names = o.get("names") or {}
        forms = {str(v).lower() for v in names.values()}
        if len(forms) > 1:
            out.append("%s is in more than one wave: %s (the same user under different names); %s" % (
                o["user"], ", ".join("%s as %s" % (w, _show(names[w])) for w in o["waves"]), suffix))
        else:
            out.append("%s is in more than one wave: %s; %s" % (o["user"], ", ".join(o["waves"]), suffix))
    return out


def resolve_against(waves, directory):
    """{wave: [{identity, sip_address}]} for the plan: each identity of ``waves`` (check_waves' waves) matched
    against ``directory`` (users as WMI's MSFT_SIPESUserSetting lists them: PrimaryURI, DisplayName, UserDN) by
    SIP address (with or without sip:), display name or distinguished name, case-insensitively. An identity
    that matches no user, or more than one, keeps its own name as its key."""
    index = {}
    for user in directory or []:
        sip = str(user.get("PrimaryURI") or user.get("sip_address") or "")
        if not sip:
            continue
        sip = sip if sip.lower().startswith("sip:") else "sip:" + sip
        names = {sip.lower(), sip.lower()[4:]}
        for key in ("DisplayName", "UserDN", "display_name"):
            if user.get(key):
                names.add(str(user[key]).lower())
        for name in names:
            index.setdefault(name, set()).add(sip.lower())
    out = {}
    for wave in waves:
        rows = []
        for identity in wave.get("identities") or []:
            matches = index.get(identity.lower(), set())
            rows.append({"identity": identity, "sip_address": next(iter(matches)) if len(matches) == 1 else identity})
        out[wave["name"]] = rows
    return out
