"""The built collection as a user gets it: what the tarball carries, and Phases 1 and 6 run from an installed copy.

A project directory in a temporary directory (never the repository), laid out as README.md gives it and as an AWX
project is: `ansible-galaxy collection install` puts the tarball into its empty collections/, and it holds the user's
ansible.cfg, an inventory the test writes for a lab of its own (not inventories/lab), and the phase playbooks copied
out of the installed collection (README.md, "Using the installed collection": ansible-core accepts no hyphen in
a playbook's FQCN, so `lync.migration.phase6-move-users` cannot be named). ANSIBLE_CONFIG is that project's
ansible.cfg, ANSIBLE_COLLECTIONS_PATH the temporary path alone, and ansible-core's scan of sys.path for collections
is off, so the repository's working tree cannot stand in for the installed copy.
"""

from __future__ import annotations

import fnmatch
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from dist_support import REPO, VENV_BIN, clean_env, galaxy_version
from lync_lab.instance import LabInstance

LAB_USER = "CONTOSO\\lyncadmin"
LAB_PASSWORD = "Lab-Passw0rd!"      # the lab's administrator; a lab, so the password is public (README.md)
PILOT_POOL = "pool02.contoso.net"
LEGACY_POOL = "pool01.contoso.net"
TEST_WAVE = ["David Pelton", "Hao Chen"]
PILOT_WAVE = ["Katie Jordan", "Sara Davis"]
# The contoso-small servers and the WinRM HTTP port each answers on at port offset 0 (lab/lync_lab/scenarios).
LAB_HOSTS = {"ocs_legacy_pool": ("ocs-fe01.contoso.net", 55989), "ocs_legacy_edge": ("ocs-edge01.contoso.net", 55991),
             "ocs_legacy_mediation": ("ocs-med01.contoso.net", 55997), "lync_admin": ("lync-fe01.contoso.net", 55985),
             "lync_edge": ("lync-edge01.contoso.net", 55993), "domain_controllers": ("dc01.contoso.net", 55995)}

# What the tarball may carry at its top level, and what it must never carry (galaxy.yml's build_ignore says why).
ALLOWED_TOP = {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.rst", "changelogs", "docs", "extensions",
               "inventories", "meta", "playbooks", "plugins", "roles", "tests"}
FORBIDDEN = ["journal", "journal/*", "reports", "reports/*", ".lab*", ".venv*", ".ansible*", ".cache*", "lab", "lab/*",
             "*__pycache__*", "*.pyc", "*.egg-info*", "tests/output*", "*/.molecule*", "extensions/molecule*",
             "build", "build/*", "dist", "dist/*", "*.tar.gz", "*.whl", "Makefile", "mk", "mk/*", ".ci*", "tools*",
             "ansible.cfg", "requirements.txt", ".gitignore", "execution-environment.yml",
             "changelogs/fragments*", "changelogs/.plugin-cache.yaml", "tests/unit*",
             "tests/integration*", "tests/reliability*", "tests/molecule*", "tests/awx*", "tests/dist*", "tests/docs*",
             "tests/report*", "tests/sanity/get-pip-standin.py"]
# Every tracked file under these must ship: what the roles, modules and playbooks need at run time.
SHIPPED_WHOLE = ("plugins", "roles", "playbooks", "meta", "inventories")


def tarball_members(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return [m.name.rstrip("/") for m in tar.getmembers()]


def test_tarball_carries_the_collection_and_nothing_a_user_must_not_get(collection_tarball):
    names = tarball_members(collection_tarball)
    assert {n.split("/", 1)[0] for n in names} <= ALLOWED_TOP, sorted({n.split("/", 1)[0] for n in names} - ALLOWED_TOP)
    leaked = sorted(n for n in names if any(fnmatch.fnmatch(n, p) for p in FORBIDDEN))
    assert leaked == [], leaked
    # Of tests/, only what ansible-test sanity of the installed collection reads (a new test suite needs its line
    # in build_ignore).
    assert [n for n in names if n.startswith("tests/") and not n.startswith("tests/sanity")] == []
    tracked = subprocess.run(["git", "ls-files", "--", *SHIPPED_WHOLE], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked, "git ls-files found nothing: not a checkout?"
    missing = sorted(set(tracked) - set(names))
    assert missing == [], "tracked files left out of the tarball: %s" % missing
    # The release's changelog and ansible-test sanity's ignore file ship; the manifest names this version.
    assert {"CHANGELOG.rst", "changelogs/changelog.yaml", "tests/sanity/ignore-2.19.txt"} <= set(names)
    with tarfile.open(collection_tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("lync", "migration", galaxy_version())
    # Galaxy shows these links to users: none may lead to a placeholder address.
    assert not any("example.invalid" in str(info.get(k) or "") for k in ("repository", "documentation", "issues"))


@pytest.fixture(scope="module")
def installed(collection_tarball, tmp_path_factory):
    """The user's project directory, with the tarball installed into its empty collections path."""
    root = tmp_path_factory.mktemp("user")
    project = root / "project"
    collections = project / "collections"
    collections.mkdir(parents=True)
    assert not any(collections.iterdir())
    config = project / "ansible.cfg"
    # The user's own ansible.cfg, as README.md gives it: the project's collections, nothing of the repository's.
    config.write_text("[defaults]\ncollections_path = ./collections\nretry_files_enabled = false\n"
                      "callbacks_enabled = lync.migration.lync_progress\n", encoding="utf-8")
    env = clean_env(ANSIBLE_CONFIG=str(config), ANSIBLE_COLLECTIONS_PATH=str(collections),
                    ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_HOME=str(root / "ansible-home"))
    proc = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "-p", "./collections",
                           str(collection_tarball)], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tree = collections / "ansible_collections" / "lync" / "migration"
    assert (tree / "MANIFEST.json").is_file() and not (tree / "MANIFEST.json").is_symlink()
    listed = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "list", "lync.migration", "--format",
                             "json"], cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    found = json.loads(listed.stdout)
    assert list(found) == [str(collections / "ansible_collections")], found
    # The way README.md gives: the phase playbooks copied out of the installed collection into the project.
    shutil.copytree(tree / "playbooks", project / "playbooks")
    return {"root": root, "collections": collections, "tree": tree, "project": project, "env": env}


@pytest.fixture(scope="module")
def lab(installed):
    """contoso-small just before Phase 6, with its DNS server (Phase 1 reads the SIP SRV records)."""
    running = LabInstance(installed["root"] / "lab", stage=6, dns=True)
    running.start(timeout=60)
    yield running
    running.stop(timeout=15)


def write_user_inventory(project: Path, lab: LabInstance) -> Path:
    """An inventory as a user writes one for their deployment (inventories/example's layout), pointing at the lab."""
    inventory = project / "inventory"
    groups = {group: {"hosts": {name: {"ansible_port": lab.port_of(port)}}}
              for group, (name, port) in LAB_HOSTS.items()}
    groups["lync_pilot_fe"] = {"hosts": {"lync-fe01.contoso.net": None}}
    groups["lync_production_fe"] = {"hosts": {}}
    groups["lync_mediation"] = {"hosts": {}}
    hosts = {"all": {"children": {"windows": {"children": groups}}}}
    windows = {"ansible_connection": "winrm", "ansible_host": "127.0.0.1", "ansible_user": LAB_USER,
               "ansible_password": LAB_PASSWORD, "ansible_winrm_transport": "ntlm", "ansible_winrm_scheme": "http",
               "ansible_winrm_message_encryption": "always"}
    migration = {
        "lync_migration_legacy_pools": [LEGACY_POOL], "lync_migration_pilot_pool": PILOT_POOL,
        "lync_migration_sip_domains": ["contoso.net"], "lync_migration_central_site": "Redmond",
        "lync_migration_archiving_monitoring": "after_migration", "lync_migration_xmpp_in_use": False,
        "lync_migration_dns_resolver": "127.0.0.1", "lync_migration_dns_resolver_port": lab.dns_port,
        "lync_migration_policies_to_keep": ["archiving", "conferencing", "dial_plan", "external_access", "presence",
                                            "voice"],
        "lync_migration_waves": [{"name": "test", "identities": TEST_WAVE},
                                 {"name": "pilot", "identities": PILOT_WAVE}],
        # No lync_migration_report_dir / lync_migration_journal_dir: README.md says the run records then go to the
        # project's reports/ and journal/ (beside playbooks/), which the tests check.
    }
    (inventory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False), encoding="utf-8")
    (inventory / "group_vars" / "windows.yml").write_text(yaml.safe_dump(windows), encoding="utf-8")
    (inventory / "group_vars" / "all" / "migration.yml").write_text(yaml.safe_dump(migration, allow_unicode=True),
                                                                  encoding="utf-8")
    return inventory


@pytest.fixture(scope="module")
def playbook(installed, lab):
    project = installed["project"]
    inventory = write_user_inventory(project, lab)

    def run(name: str, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "inventory", f"playbooks/{name}", "-v", *args]
        proc = subprocess.run(cmd, cwd=project, env=installed["env"], capture_output=True, text=True, timeout=300)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out
        # The project's configuration, and nothing from the repository's working tree.
        assert "Using %s as config file" % (project / "ansible.cfg") in out, out
        assert str(REPO) not in out, out
        return proc

    run.inventory = inventory
    return run


def tree_files(tree: Path) -> set[str]:
    return {str(p.relative_to(tree)) for p in tree.rglob("*")}


def latest_report(reports: Path, label: str) -> dict:
    runs = sorted((p for p in reports.glob("*-" + label) if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    assert runs, "no %s report under %s" % (label, reports)
    return json.loads((runs[-1] / "report.json").read_text(encoding="utf-8"))


def moves(lab: LabInstance, since: int) -> list[dict]:
    return [e for e in lab.audit()[since:] if str(e.get("cmdlet", "")).startswith("Move-")]


def registrar_pool(lab: LabInstance, identity: str) -> str:
    """Where a user is homed, read with plain pywinrm, not through the collection."""
    import winrm

    session = winrm.Session(lab.admin_url, auth=(LAB_USER, LAB_PASSWORD), transport="ntlm",
                            message_encryption="always")
    literal = "'" + identity.replace("'", "''") + "'"    # a test constant, quoted as a PowerShell literal all the same
    r = session.run_ps("Get-CsUser -Identity %s | Select-Object RegistrarPool | ConvertTo-Json" % literal)
    assert r.status_code == 0, r.std_err.decode("utf-8", "replace")
    return json.loads(r.std_out.decode("utf-8"))["RegistrarPool"]


@pytest.mark.parametrize("mode", [["--check"], []], ids=["check", "run"])
def test_phase1_plans_from_the_installed_collection(installed, lab, playbook, mode):
    before_files = tree_files(installed["tree"])
    before = len(lab.audit())
    playbook("phase1-plan.yml", *mode)
    assert lab.audit()[before:], "Phase 1 read nothing from the servers"
    report = latest_report(installed["project"] / "reports", "phase1")
    assert report["status"] == "succeeded" and report["check_mode"] is bool(mode)
    assert report["inventory"]["pools"][0]["pool"] == LEGACY_POOL
    assert tree_files(installed["tree"]) == before_files, "the run wrote into the installed collection"


def test_phase6_check_mode_plans_and_moves_nobody(installed, lab, playbook):
    before = len(lab.audit())
    playbook("phase6-move-users.yml", "--check", "--diff")
    assert moves(lab, before) == []
    report = latest_report(installed["project"] / "reports", "phase6")
    assert report["check_mode"] is True
    assert report["totals"]["would_move"] == len(TEST_WAVE + PILOT_WAVE) and report["totals"]["moved"] == 0
    assert registrar_pool(lab, TEST_WAVE[0]) == LEGACY_POOL


def test_phase6_moves_the_waves_from_the_installed_collection(installed, lab, playbook):
    before_files = tree_files(installed["tree"])
    before = len(lab.audit())
    playbook("phase6-move-users.yml")
    assert len(moves(lab, before)) == len(TEST_WAVE + PILOT_WAVE)
    for user in TEST_WAVE + PILOT_WAVE:
        assert registrar_pool(lab, user) == PILOT_POOL, user
    report = latest_report(installed["project"] / "reports", "phase6")
    assert report["status"] == "succeeded" and report["totals"]["moved"] == len(TEST_WAVE + PILOT_WAVE)
    # The journal the project's inventory names, and nothing written into the installed collection.
    assert any((installed["project"] / "journal").iterdir())
    assert tree_files(installed["tree"]) == before_files, "the run wrote into the installed collection"
