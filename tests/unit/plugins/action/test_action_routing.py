"""One action plugin: meta/runtime.yml routes every module to plugins/action/lync.py, and the plugin runs the module
in the worker process only on an ansible-core that has the internals for it (2.19+), else the public AnsiballZ way.

These run under every ansible-core of `make test-core-range`, so the resolution checks use that core's own loader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible import __version__ as ansible_version
from ansible_collections.lync.migration.plugins.action import lync as action_lync

import collection_root
from test_action import closed_port, run_playbook

ROOT = Path(__file__).resolve().parents[4]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("cs_*.py"))
RUNTIME = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
ACTION = "lync.migration.lync"
CORE = tuple(int(part) for part in ansible_version.split(".")[:2])


def test_plugins_action_holds_the_one_plugin():
    assert sorted(p.name for p in (ROOT / "plugins" / "action").glob("*.py")) == ["lync.py"]


def test_every_module_and_every_module_of_the_action_group_is_routed_to_the_one_action_plugin():
    routing = RUNTIME["plugin_routing"]["modules"]
    group = RUNTIME["action_groups"]["lync"]
    assert sorted(set(group) | set(MODULES)) == sorted(routing), "routed modules differ from plugins/modules + group"
    assert {m: routing[m] for m in routing} == {m: {"action_plugin": ACTION} for m in routing}


RESOLVE = r"""
import json, sys
from ansible.plugins.loader import action_loader, init_plugin_loader, module_loader
init_plugin_loader([sys.argv[1]])
out = {}
for name in sys.argv[2:]:
    context = module_loader.find_plugin_with_context("lync.migration." + name)
    handler = action_loader.get(context.action_plugin, class_only=True) if context.action_plugin else None
    out[name] = [context.resolved, context.action_plugin, handler and handler.__module__]
print(json.dumps(out))
"""


def test_ansible_core_resolves_every_module_to_the_one_action_plugin():
    """The task executor asks the module loader for the module's action_plugin first (TaskExecutor.
    _get_action_handler_with_module_context); this asks this ansible-core's loader the same question."""
    proc = subprocess.run([sys.executable, "-c", RESOLVE, collection_root.COLLECTIONS_ROOT] + MODULES,
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_HOME=str(Path(collection_root.COLLECTIONS_ROOT) / "home")))
    assert proc.returncode == 0, proc.stderr
    resolved = json.loads(proc.stdout.splitlines()[-1])
    expected = [True, ACTION, "ansible_collections.lync.migration.plugins.action.lync"]
    assert {m: resolved[m] for m in MODULES} == {m: expected for m in MODULES}


def test_in_process_execution_is_chosen_exactly_on_the_cores_that_have_its_internals(monkeypatch):
    monkeypatch.delenv("LYNC_MIGRATION_MODULE_EXECUTION", raising=False)
    execution, reason = action_lync.module_execution()
    if CORE >= (2, 19):
        assert (execution, reason) == ("inprocess", None)
    else:
        assert execution == "subprocess"
        assert reason.startswith("ansible-core %s: " % ansible_version)


def test_missing_internals_or_the_environment_variable_mean_the_public_path(monkeypatch):
    monkeypatch.delenv("LYNC_MIGRATION_MODULE_EXECUTION", raising=False)
    monkeypatch.setattr(action_lync, "get_module_encoder", None)
    assert action_lync.module_execution() == (
        "subprocess", "ansible-core %s: ansible.module_utils.common.json has no get_module_encoder" % ansible_version)
    monkeypatch.undo()
    monkeypatch.setenv("LYNC_MIGRATION_MODULE_EXECUTION", "subprocess")
    assert action_lync.module_execution() == ("subprocess", "LYNC_MIGRATION_MODULE_EXECUTION=subprocess")


INVENTORY = """
all:
  hosts:
    fe01:
      ansible_host: 127.0.0.1
      ansible_port: %d
      ansible_connection: winrm
      ansible_user: CONTOSO\\lyncadmin
      ansible_password: not-a-secret
      ansible_winrm_scheme: http
"""
PLAYBOOK = """
- hosts: fe01
  gather_facts: false
  tasks:
    - lync.migration.cs_pool_info:
      register: result
      ignore_errors: true
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.copy:
        content: "{{ hostvars['fe01'].result | to_json }}"
        dest: %s
"""


@pytest.mark.parametrize("forced", [False, True], ids=["default", "LYNC_MIGRATION_MODULE_EXECUTION=subprocess"])
def test_both_paths_give_the_same_result_through_the_routed_plugin(tmp_path, monkeypatch, forced):
    """A module routed to the plugin takes the host's WinRM variables (the module alone could not know them) on
    whichever path this core takes; the path it took is named at -vvv."""
    port = closed_port()
    if forced:
        monkeypatch.setenv("LYNC_MIGRATION_MODULE_EXECUTION", "subprocess")
    else:
        monkeypatch.delenv("LYNC_MIGRATION_MODULE_EXECUTION", raising=False)
    output = run_playbook(tmp_path, INVENTORY % port, PLAYBOOK % (tmp_path / "result.json"), "-vvv")
    if forced or CORE < (2, 19):
        assert "lync.migration.cs_pool_info runs as an AnsiballZ subprocess" in output, output[-3000:]
    else:
        assert "lync.migration.cs_pool_info runs in the worker process" in output, output[-3000:]
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["failed"] is True
    assert "port=%d" % port in result["msg"] and "127.0.0.1" in result["msg"], result["msg"]
    assert "not-a-secret" not in output
