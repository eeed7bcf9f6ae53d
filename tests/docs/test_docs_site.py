"""The docs site builds (make docs) with no warning, and has a page for each kind of plugin, the roles' argument
specs and the user guide.

One build (about 15 s on 2 cores) into a temporary directory; the checks read its files.
"""

from __future__ import annotations

import html.parser
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []
        self.links = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)

    @property
    def text(self):
        return " ".join(" ".join(self.parts).split())


def _read(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    build = tmp_path_factory.mktemp("docs") / "build"
    run = subprocess.run(["make", "--no-print-directory", "docs", f"DOCS_BUILD={build}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, env=dict(os.environ, MAKEFLAGS=""))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return build


def test_no_warnings(site):
    # sphinx-build -W already fails on one; the log must also be empty (nothing suppressed on the way).
    assert (site / "warnings.log").read_text(encoding="utf-8").strip() == ""


@pytest.mark.parametrize("page, words", [
    ("cs_user_move_module.html", ["Move users between OCS 2007 R2 and Lync Server 2013", "Parameters", "Return Values"]),
    ("cs_object_info_module.html", ["Get-CsConferenceDirectory", "Parameters"]),
    ("migration_overview_filter.html", ["Where the migration stands", "report_dir"]),
    ("lync_progress_callback.html", ["callback"]),
    ("move_users_role.html", ["Entry point", "move_users_wave_definitions", "lync_migration_waves"]),
    ("migration_common_role.html", ["Entry point", "migration_common_report_title"]),
    ("guide/index.html", ["lync.migration user guide"]),
    ("guide/phase6.html", ["Phase 6"]),
])
def test_page_has(site, page, words):
    text = _read(site / "html" / page).text
    for word in words:
        assert word in text, f"{page} does not show {word!r}"


def test_every_plugin_and_role_has_a_page(site):
    html_dir = site / "html"
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("cs_*.py"))
    roles = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
    callbacks = sorted(p.stem for p in (ROOT / "plugins" / "callback").glob("*.py"))
    missing = [f"{m}_module.html" for m in modules if not (html_dir / f"{m}_module.html").is_file()]
    missing += [f"{r}_role.html" for r in roles if not (html_dir / f"{r}_role.html").is_file()]
    missing += [f"{c}_callback.html" for c in callbacks if not (html_dir / f"{c}_callback.html").is_file()]
    assert modules and roles and callbacks and missing == []


def test_index_links_the_guide_and_the_plugins(site):
    index = _read(site / "html" / "index.html")
    for target in ("guide/index.html", "cs_user_move_module.html", "sip_uri_filter.html", "plan_role.html"):
        assert any(link.split("#")[0] == target for link in index.links), target


def test_pages_load_nothing_from_a_network(site):
    # Links to docs.ansible.com are fine; scripts, styles and images must come with the site.
    for page in (site / "html").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for marker in ('src="http', "src='http", 'rel="stylesheet" href="http'):
            assert marker not in text, f"{page.name} loads {marker}"
