"""Print the reliability tables from the rows the tests appended (LYNC_RELIABILITY_SCOREBOARD). Exit 1 if any
promised zero is not zero.

- Scenarios: one line per scenario, runs and users summed, the failure counts summed.
- The bad-input corpus: one line per corpus table (a data file and playbook, or the module/role runs), counting
  its cases by kind (tests/reliability/harness.judge_case): unsafe (a changing call reached the lab),
  silent-accept (exit 0 where a failure was expected), unclear (failed without naming the field and the fix),
  wrong-rc (another non-zero exit than the case names). Every one of those must be zero.
"""

import json
import sys
from collections import OrderedDict

COLUMNS = ("runs", "users", "lost", "duplicated", "leaked_secrets", "unexpected_changes")
ZERO = ("lost", "duplicated", "leaked_secrets", "unexpected_changes")
CORPUS_COLUMNS = ("cases", "ok", "unsafe", "silent-accept", "unclear", "wrong-rc")
CORPUS_ZERO = ("unsafe", "silent-accept", "unclear", "wrong-rc")


def print_scenarios(rows):
    width = max([len("scenario")] + [len(name) for name in rows])
    header = "%-*s " % (width, "scenario") + " ".join("%18s" % c for c in COLUMNS)
    print(header)
    print("-" * len(header))
    broken = False
    for name, acc in rows.items():
        print("%-*s " % (width, name) + " ".join("%18d" % acc[c] for c in COLUMNS)
              + ("  " + "; ".join(acc["notes"]) if acc["notes"] else ""))
        broken = broken or any(acc[c] for c in ZERO)
    return broken


def print_corpus(tables):
    width = max([len("bad-input corpus")] + [len(name) for name in tables])
    header = "%-*s " % (width, "bad-input corpus") + " ".join("%13s" % c for c in CORPUS_COLUMNS)
    print(header)
    print("-" * len(header))
    total = dict.fromkeys(CORPUS_COLUMNS, 0)
    broken_cases = []
    for name, acc in tables.items():
        print("%-*s " % (width, name) + " ".join("%13d" % acc[c] for c in CORPUS_COLUMNS))
        for c in CORPUS_COLUMNS:
            total[c] += acc[c]
        broken_cases += acc["broken"]
    print("-" * len(header))
    print("%-*s " % (width, "total") + " ".join("%13d" % total[c] for c in CORPUS_COLUMNS))
    for case_id, kind in broken_cases:
        print("  %s: %s" % (kind, case_id))
    return bool(broken_cases)


def main(path):
    rows = OrderedDict()
    tables = OrderedDict()
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        row = json.loads(line)
        if "corpus" in row:
            acc = tables.setdefault(row["corpus"], dict(dict.fromkeys(CORPUS_COLUMNS, 0), broken=[]))
            acc["cases"] += 1
            kind = row["kind"] if row["kind"] in CORPUS_COLUMNS else "unclear"
            acc[kind] += 1
            if kind in CORPUS_ZERO:
                acc["broken"].append((row["case"], kind))
            continue
        acc = rows.setdefault(row["scenario"], dict(dict.fromkeys(COLUMNS, 0), notes=[]))
        for key in COLUMNS:
            acc[key] += int(row.get(key) or 0)
        if row.get("note") and row["note"] not in acc["notes"]:
            acc["notes"].append(row["note"])
    if not rows and not tables:
        print("(no scenario reported; did the tests run?)")
        return 1
    broken = print_scenarios(rows) if rows else False
    if tables:
        print()
        broken = print_corpus(tables) or broken
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
