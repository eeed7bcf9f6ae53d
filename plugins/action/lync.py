# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin every lync.migration module uses.

Lync servers run no Python, so the module runs on the controller with the controller's Python, over the
``local`` connection, and reaches the server over WinRM itself. The server's WinRM variables from the
inventory (ansible_host, ansible_user, ansible_password, ansible_winrm_*) fill the module's connection options
unless the task sets them.

Every module of the collection reaches this plugin through meta/runtime.yml (plugin_routing.modules.<module>.
action_plugin), so this is the only file in plugins/action/.

On ansible-core 2.19 and later the module runs inside the task's worker process (it is already the controller's
Python): a module started as a new interpreter costs about half a second per task, which dominates playbooks of many
small checks. That needs 2.19's module serialisation profiles (get_module_encoder, basic._ANSIBLE_PROFILE), which
are internals; where they are missing (ansible-core 2.16 to 2.18) the module runs the public way, AnsiballZ over
the local connection (ActionBase._execute_module), as it does everywhere with
LYNC_MIGRATION_MODULE_EXECUTION=subprocess. See docs/architecture.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import inspect
import io
import json
import os
import runpy
import sys
import traceback

from ansible import __version__ as ansible_version
from ansible.module_utils import basic
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import connection_loader
from ansible.vars.clean import remove_internal_keys
from ansible.plugins.shell import sh
from ansible.utils.display import Display
from ansible_collections.lync.migration.plugins.module_utils.lync.lifetime import die_with_parent
from ansible_collections.lync.migration.plugins.module_utils.lync.connection import CONNECTION_OPTIONS, HOSTVAR_OPTIONS

try:  # ansible-core 2.19 and later: how a module's arguments are serialised (the in-process path needs it)
    from ansible.module_utils.common.json import Direction, get_module_encoder
except ImportError:
    Direction = get_module_encoder = None

display = Display()

WINRM_CONNECTIONS = ("winrm", "psrp", "ansible.builtin.winrm", "ansible.builtin.psrp", "ansible.windows.psrp")
# The host variables that fill each option, and the options' types, come from the one table in connection.py.
INT_OPTIONS = tuple(name for name, spec, _vars in CONNECTION_OPTIONS if spec["type"] == "int")
BOOL_OPTIONS = tuple(name for name, spec, _vars in CONNECTION_OPTIONS if spec["type"] == "bool")


def is_winrm_host(host_vars):
    """Only hosts reached over WinRM lend their variables; localhost and SSH hosts do not."""
    if str(host_vars.get("ansible_connection", "")) in WINRM_CONNECTIONS:
        return True
    return any(str(name).startswith("ansible_winrm_") for name in host_vars)


def connection_args_from_host(host_vars, inventory_name):
    """The module connection options the host's WinRM variables give (only those that are set)."""
    if not is_winrm_host(host_vars):
        return {}
    args = {}
    for option, names in HOSTVAR_OPTIONS:
        for name in names:
            value = host_vars.get(name)
            if value is not None and value != "":
                args[option] = value
                break
    if "server" not in args and inventory_name:
        args["server"] = inventory_name
    transport = args.get("transport")
    if isinstance(transport, (list, tuple)):
        transport = transport[0] if transport else None
    if isinstance(transport, str) and "," in transport:
        transport = transport.split(",")[0].strip()
    if transport == "plaintext":  # pywinrm's name for basic over http
        transport = "basic"
    if transport:
        args["transport"] = transport
    else:
        args.pop("transport", None)
    for option in INT_OPTIONS:
        if option in args:
            try:
                args[option] = int(args[option])
            except (TypeError, ValueError):
                pass  # left as is: the module's argument validation names the option
    for option in BOOL_OPTIONS:
        if option in args:
            args[option] = str(args[option]).lower() in ("true", "yes", "1")
    return args


def in_process_unavailable():
    """Why this ansible-core cannot run a module in the worker process, or None when it can.

    The in-process path sets the arguments and serialisation profile AnsiballZ would set (2.19's
    basic._ANSIBLE_ARGS/_ANSIBLE_PROFILE, encoded by get_module_encoder) and parses the result with 2.19's
    _parse_returned_data(result, profile); any of them missing means the public path.
    """
    if get_module_encoder is None or Direction is None:
        return "ansible.module_utils.common.json has no get_module_encoder"
    if not hasattr(basic, "_ANSIBLE_PROFILE"):
        return "ansible.module_utils.basic has no _ANSIBLE_PROFILE"
    try:
        parameters = inspect.signature(ActionBase._parse_returned_data).parameters
    except (TypeError, ValueError):
        return "ActionBase._parse_returned_data cannot be inspected"
    if "profile" not in parameters:
        return "ActionBase._parse_returned_data takes no serialisation profile"
    return None


def module_execution():
    """``("inprocess", None)`` or ``("subprocess", reason)``: how this task's module runs, and why not in-process."""
    if os.environ.get("LYNC_MIGRATION_MODULE_EXECUTION", "inprocess") == "subprocess":
        return "subprocess", "LYNC_MIGRATION_MODULE_EXECUTION=subprocess"
    reason = in_process_unavailable()
    if reason:
        return "subprocess", "ansible-core %s: %s" % (ansible_version, reason)
    return "inprocess", None


def merge_args(task_args, host_args):
    """Task arguments win; host variables fill only what the task left unset."""
    merged = dict(host_args)
    merged.update(dict((k, v) for k, v in task_args.items() if v is not None))
    return merged


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def _target_vars(self, task_vars):
        """Variables and name of the host the task addresses (the delegated host when delegate_to is used)."""
        if self._task.delegate_to:
            delegated = (task_vars.get("ansible_delegated_vars") or {}).get(self._task.delegate_to) or {}
            return delegated, self._task.delegate_to
        return task_vars, task_vars.get("inventory_hostname")

    def _use_local_connection(self):
        play_context = copy.copy(self._play_context)
        play_context.connection = "local"
        play_context.shell = "sh"
        play_context.become = False
        play_context.remote_addr = "localhost"
        local = connection_loader.get("local", play_context, "/dev/null", shell=sh.ShellModule())
        local.set_options(direct={"pipelining": True})
        self._connection = local
        self._play_context = play_context

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        # Ansible's workers leave ansible-playbook's process group (setsid): tie this one to its parent so that
        # a killed run sends nothing more to the server (module_utils/lync/lifetime.py).
        die_with_parent()
        result = super(ActionModule, self).run(tmp, task_vars)
        target_vars, target_name = self._target_vars(task_vars)
        host_args = connection_args_from_host(
            dict((k, self._templar.template(v)) for k, v in target_vars.items()
                 if k.startswith("ansible_") or k == "inventory_hostname"),
            target_name)
        module_args = merge_args(self._task.args, host_args)

        # Run the module here, with the Python that runs Ansible (it has pywinrm), whatever the target is.
        self._use_local_connection()
        module_vars = dict(task_vars)
        module_vars["ansible_python_interpreter"] = sys.executable
        module_vars["ansible_connection"] = "local"
        if self._task.delegate_to:
            delegated = dict(module_vars.get("ansible_delegated_vars") or {})
            inner = dict(delegated.get(self._task.delegate_to) or {})
            inner["ansible_python_interpreter"] = sys.executable
            inner["ansible_connection"] = "local"
            delegated[self._task.delegate_to] = inner
            module_vars["ansible_delegated_vars"] = delegated
        module_name = self._module_name()
        execution, why_not_in_process = module_execution()
        if execution == "subprocess":
            display.vvv("lync.migration: %s runs as an AnsiballZ subprocess (%s)" % (module_name, why_not_in_process),
                        host=target_name)
            result.update(self._execute_module(module_name=module_name, module_args=module_args, task_vars=module_vars))
        else:
            display.vvv("lync.migration: %s runs in the worker process" % module_name, host=target_name)
            result.update(self._run_module_in_process(module_name, module_args, module_vars))
        return result

    def _module_name(self):
        """The FQCN of the module the task names.

        Not task.resolved_action alone: before ansible-core 2.19 it holds the action plugin's name
        (lync.migration.lync) for a module whose plugin_routing names an action_plugin.
        """
        context = self._shared_loader_obj.module_loader.find_plugin_with_context(
            self._task.action, collection_list=self._task.collections)
        if context.resolved:
            return context.resolved_fqcn
        return self._task.resolved_action or self._task.action

    def _run_module_in_process(self, module_name, module_args, task_vars):
        """Run the module's main() here, as AnsiballZ would run it in a new interpreter, and parse its result.

        The worker process Ansible forked for this task is the controller's Python, so nothing is lost: the
        module gets the same internal arguments (check mode, diff, no_log, verbosity) and its JSON result goes
        through the same parsing and clean-up as a module run over a connection. ansible-core 2.19 and later
        only (module_execution() checks).
        """
        module_args = dict(module_args)
        self._update_module_args(module_name, module_args, task_vars)
        fqcn = module_name if module_name.count(".") >= 2 else "lync.migration." + module_name
        namespace, collection, short_name = fqcn.split(".", 2)
        module_fqn = "ansible_collections.%s.%s.plugins.modules.%s" % (namespace, collection, short_name)
        profile = "legacy"
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args},
                                         cls=get_module_encoder(profile, Direction.CONTROLLER_TO_MODULE)).encode("utf-8")
        basic._ANSIBLE_PROFILE = profile
        stdout = io.StringIO()
        rc = 0
        stderr = ""
        try:
            with contextlib.redirect_stdout(stdout):
                runpy.run_module(mod_name=module_fqn, run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # pylint: disable=broad-except  # reported as the module's failure, as AnsiballZ does
            rc = 1
            stderr = traceback.format_exc()
        finally:
            basic._ANSIBLE_ARGS = None
            basic._ANSIBLE_PROFILE = None
        if stderr and not stdout.getvalue().strip():
            return {"failed": True, "msg": "The module %s failed unexpectedly; see module_stderr." % fqcn,
                    "module_stderr": stderr, "rc": rc}
        data = self._parse_returned_data({"stdout": stdout.getvalue(), "stderr": stderr, "rc": rc}, profile)
        remove_internal_keys(data)
        return data
