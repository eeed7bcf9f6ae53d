"""lab/FIDELITY.md stays complete: every implemented cmdlet has a section, every behaviour a source or a reason.

The rule (issue "Microsoft, not our modules"): each lab behaviour comes from a Microsoft page, cited as
`MicrosoftDocs/<repository>:<path>` (or a learn.microsoft.com address for a page without a repository), or is
marked **assumed** with the reason. The totals stated at the top of the ledger must match its rows.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from lync_lab.cmdlets import load_all
import lync_lab.powershell.out_file  # noqa: F401  Out-File registers itself from powershell/, not cmdlets/

REPO_ROOT = Path(__file__).resolve().parents[2]
LEDGER = REPO_ROOT / "lab" / "FIDELITY.md"
MIRRORS = Path("/work/.mirror")   # local read-only mirrors of Microsoft's repositories, where present

KINDS = {"precondition", "error", "effect", "prompt", "default", "output"}
HOST_SECTION = "Host-level behaviours (not a cmdlet)"
OTHER_SECTIONS = {"How to add an entry", HOST_SECTION, "Known differences (to fix)"}
CMDLET_HEADING = re.compile(r"^[A-Z][a-z]+-[A-Za-z0-9]+$")
TABLE_HEADER = ["behaviour", "kind", "source or assumed"]
# Microsoft's documentation repositories: MicrosoftDocs/* and the .NET API reference (dotnet/dotnet-api-docs).
CITATION = re.compile(r"((?:MicrosoftDocs|dotnet)/[\w.-]+):([\w./()-]+\.(?:md|xml))")
LEARN_URL = re.compile(r"https://learn\.microsoft\.com/\S+")
ASSUMED = re.compile(r"^\*\*assumed\*\*:\s*(.+)$")
TOTALS = re.compile(r"\*\*Totals: (\d+) behaviours, (\d+) of them marked assumed\*\*")


def _cells(line: str) -> list[str]:
    # Split a Markdown table row on its unescaped pipes.
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def parse(text: str) -> dict[str, list[list[str]]]:
    """Section title -> its table rows (cells), header and separator lines left out."""
    sections: dict[str, list[list[str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            assert current not in sections, f"section {current!r} appears twice"
            sections[current] = []
        elif current is not None and line.startswith("|"):
            cells = _cells(line)
            if cells == TABLE_HEADER or all(set(c) <= set("-: ") for c in cells):
                continue
            sections[current].append(cells)
    return sections


@lru_cache(maxsize=None)
def _mirror_paths(repo: str) -> frozenset[str] | None:
    """Every path of a mirrored repository ("owner/name"), or None when it is not mirrored on this machine."""
    git_dir = MIRRORS / repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        return None
    out = subprocess.run(["git", "-C", str(git_dir), "ls-tree", "-r", "--name-only", "HEAD"],
                         capture_output=True, text=True, check=True).stdout
    return frozenset(out.splitlines())


@pytest.fixture(scope="module")
def ledger() -> tuple[str, dict[str, list[list[str]]]]:
    text = LEDGER.read_text(encoding="utf-8")
    return text, parse(text)


def _rows(sections):
    for title, rows in sections.items():
        if CMDLET_HEADING.match(title) or title == HOST_SECTION:
            for row in rows:
                yield title, row


def test_every_implemented_cmdlet_has_a_section(ledger):
    _text, sections = ledger
    implemented = {impl.name for impl in load_all().values()}
    documented = {t for t in sections if CMDLET_HEADING.match(t)}
    assert sorted(implemented - documented) == [], "implemented cmdlets without a ## section in lab/FIDELITY.md"
    assert sorted(documented - implemented) == [], "sections for cmdlets the lab does not implement (renamed?)"
    assert {t for t in sections if not CMDLET_HEADING.match(t)} == OTHER_SECTIONS
    empty = [t for t in documented | {HOST_SECTION} if not sections[t]]
    assert empty == [], "sections without a behaviour row"


def test_every_row_has_a_kind_and_a_source_or_a_reason(ledger):
    _text, sections = ledger
    bad = []
    for title, row in _rows(sections):
        if len(row) != 3:
            bad.append((title, row, "not three cells"))
            continue
        behaviour, kind, source = row
        if not behaviour:
            bad.append((title, row, "no behaviour"))
        if kind not in KINDS:
            bad.append((title, row, f"kind {kind!r} is not one of {sorted(KINDS)}"))
        assumed = ASSUMED.match(source)
        if assumed:
            if len(assumed.group(1).split()) < 3:
                bad.append((title, row, "assumed without a reason"))
        elif not (CITATION.search(source) or LEARN_URL.search(source)):
            bad.append((title, row, "neither a <owner>/<repo>:<path> source nor **assumed**: <reason>"))
    assert bad == []


def test_cited_pages_exist_in_the_mirrored_repositories(ledger):
    text, _sections = ledger
    missing, checked = [], 0
    for repo, path in sorted(set(CITATION.findall(text))):
        paths = _mirror_paths(repo)
        if paths is None:
            continue   # not mirrored here: the citation's form was checked above
        checked += 1
        if path not in paths:
            missing.append(f"{repo}:{path}")
    if checked == 0:
        pytest.skip("no Microsoft repository is mirrored on this machine")
    assert missing == []


def test_stated_totals_match_the_rows(ledger):
    text, sections = ledger
    stated = TOTALS.search(text)
    assert stated, "the totals line (**Totals: N behaviours, M of them marked assumed**) is missing"
    rows = [row for _title, row in _rows(sections)]
    assumed = sum(1 for row in rows if len(row) == 3 and ASSUMED.match(row[2]))
    assert (int(stated.group(1)), int(stated.group(2))) == (len(rows), assumed)


def test_parse_sees_rows_and_ignores_table_furniture():
    # The parser itself: a header, a separator and an escaped pipe must not become rows or cells.
    text = ("## Get-Foo\n\n| behaviour | kind | source or assumed |\n|---|---|---|\n"
            "| a \\| b | output | **assumed**: not on any page |\n")
    assert parse(text) == {"Get-Foo": [["a \\| b", "output", "**assumed**: not on any page"]]}
