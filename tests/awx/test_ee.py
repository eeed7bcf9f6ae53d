"""The execution environment: ansible-builder sees the collection's dependencies and writes a build context.

Building the image needs a container engine, which CI lacks; `ansible-builder create` (the build context) and
`ansible-builder introspect` (what the image would install) are what can be checked here."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from conftest import REPO, VENV_BIN


def run(*cmd, cwd=REPO, env=None) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def collection_tarball(tmp_path_factory, ansible_env):
    out = tmp_path_factory.mktemp("build") / "build"
    run(VENV_BIN / "ansible-galaxy", "collection", "build", REPO, "--output-path", out, "--force", env=ansible_env)
    (tarball,) = out.glob("lync-migration-*.tar.gz")
    return tarball


def test_the_ee_definition_names_the_collection_version_galaxy_yml_builds(collection_tarball):
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text(encoding="utf-8"))
    version = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    assert definition["version"] == 3
    assert collection_tarball.name == "lync-migration-%s.tar.gz" % version
    assert definition["additional_build_files"][0]["src"] == "build/" + collection_tarball.name
    assert definition["dependencies"]["galaxy"]["collections"][0]["name"].endswith("/" + collection_tarball.name)


def test_introspect_lists_pywinrm_with_its_transports_and_the_kerberos_packages(collection_tarball, tmp_path,
                                                                                   ansible_env):
    collections = tmp_path / "collections"
    run(VENV_BIN / "ansible-galaxy", "collection", "install", "--force", collection_tarball, "-p", collections,
        env=ansible_env)
    found = yaml.safe_load(run(VENV_BIN / "ansible-builder", "introspect", "--sanitize", collections))
    python = [line.split("#")[0].strip() for line in found["python"]]
    system = [line.split("#")[0].strip() for line in found["system"]]
    pywinrm = next(p for p in python if p.startswith("pywinrm["))
    assert "credssp" in pywinrm and "kerberos" in pywinrm
    assert any(p.startswith("pyspnego[kerberos]") for p in python)  # NTLM and Kerberos through pyspnego
    assert any(p.startswith("dnspython") for p in python)
    # MIT Kerberos headers to build the gssapi/krb5 bindings, and the runtime libraries, on RPM and DEB bases.
    names = {s.split()[0] for s in system}
    assert {"krb5-devel", "krb5-libs", "krb5-workstation", "libkrb5-dev", "gcc"} <= names
    # Every line is valid bindep syntax, as the image build's install-from-bindep would read it.
    run(VENV_BIN / "bindep", "-f", REPO / "meta" / "ee-bindep.txt", "-l", "newline", "compile")


def test_create_writes_a_build_context_with_the_collection(collection_tarball, tmp_path):
    shutil.copy(REPO / "execution-environment.yml", tmp_path / "execution-environment.yml")
    (tmp_path / "build").mkdir()
    shutil.copy(collection_tarball, tmp_path / "build" / collection_tarball.name)
    context = tmp_path / "context"
    run(VENV_BIN / "ansible-builder", "create", "-f", tmp_path / "execution-environment.yml", "-c", context,
        "--output-filename", "Containerfile")
    containerfile = (context / "Containerfile").read_text()
    assert (context / "_build" / "collections" / collection_tarball.name).is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements["collections"][0]["type"] == "file"
    assert "ansible-galaxy collection install" in containerfile
    # The image's Python dependencies come from introspecting the installed collection, then bindep.
    assert "introspect.py introspect" in containerfile and "install-from-bindep" in containerfile
    assert "ansible-core==2.19.14" in containerfile and "ansible-runner==2.4.3" in containerfile
