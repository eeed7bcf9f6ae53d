"""Print the reliability table from the rows the tests appended (LYNC_RELIABILITY_SCOREBOARD), one line per
scenario: runs and users summed, the failure counts summed. Exit 1 if any promised zero is not zero."""

import json
import sys
from collections import OrderedDict

COLUMNS = ("runs", "users", "lost", "duplicated", "leaked_secrets", "unexpected_changes")
ZERO = ("lost", "duplicated", "leaked_secrets", "unexpected_changes")


def main(path):
    rows = OrderedDict()
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        row = json.loads(line)
        acc = rows.setdefault(row["scenario"], dict(dict.fromkeys(COLUMNS, 0), notes=[]))
        for key in COLUMNS:
            acc[key] += int(row.get(key) or 0)
        if row.get("note") and row["note"] not in acc["notes"]:
            acc["notes"].append(row["note"])
    width = max([len("scenario")] + [len(name) for name in rows])
    header = "%-*s " % (width, "scenario") + " ".join("%18s" % c for c in COLUMNS)
    print(header)
    print("-" * len(header))
    broken = False
    for name, acc in rows.items():
        print("%-*s " % (width, name) + " ".join("%18d" % acc[c] for c in COLUMNS)
              + ("  " + "; ".join(acc["notes"]) if acc["notes"] else ""))
        broken = broken or any(acc[c] for c in ZERO)
    if not rows:
        print("(no scenario reported; did the tests run?)")
        return 1
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
