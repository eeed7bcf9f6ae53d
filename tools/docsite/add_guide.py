"""Adds the user guide (docs/*.md) to the docs site's sources that antsibull-docs wrote (make docs; mk/docs.mk).

    python tools/docsite/add_guide.py <site rst dir> <guide dir>

The pages are copied to <site rst dir>/guide/ as they are; the guide's own index (docs/index.md) gets a hidden
table of contents of every page, and the collection's index links to the guide first.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

# antsibull-docs leaves this table of contents empty for extra pages (docs/docsite/extra-docs.yml); the guide goes
# there.
EMPTY_TOCTREE = ".. toctree::\n    :maxdepth: 1\n\n"

# A link out of docs/ into the repository ([lab/README.md](../lab/README.md)) has no page on the site: the copy
# names the file instead.
REPOSITORY_LINK = re.compile(r"\[([^\]]+)\]\(\.\./([^)#\s]+)[^)]*\)")


def _site_text(text: str) -> str:
    return REPOSITORY_LINK.sub(lambda m: "%s (`%s` in the repository)" % (m.group(1), m.group(2)), text)


def main(site: Path, guide: Path) -> int:
    target = site / "guide"
    target.mkdir(parents=True, exist_ok=True)
    pages = sorted(p for p in guide.glob("*.md"))
    if not (guide / "index.md").is_file():
        raise SystemExit(f"add_guide: {guide}/index.md, the guide's index, is missing")
    for page in pages:
        (target / page.name).write_text(_site_text(page.read_text(encoding="utf-8")), encoding="utf-8")
    if (guide / "images").is_dir():
        shutil.copytree(guide / "images", target / "images", dirs_exist_ok=True)
    others = [p.stem for p in pages if p.name != "index.md"]
    with (target / "index.md").open("a", encoding="utf-8") as handle:
        handle.write("\n```{toctree}\n:hidden:\n\n" + "\n".join(others) + "\n```\n")
    index = site / "index.rst"
    text = index.read_text(encoding="utf-8")
    if EMPTY_TOCTREE not in text:
        raise SystemExit(f"add_guide: {index} has no empty toctree for the guide (antsibull-docs changed its index?)")
    index.write_text(text.replace(EMPTY_TOCTREE, EMPTY_TOCTREE.rstrip("\n") + "\n\n    User guide <guide/index>\n\n", 1),
                     encoding="utf-8")
    print(f"add_guide: {len(pages)} guide pages in {target}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
