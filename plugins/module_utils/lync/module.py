# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""LyncModule: AnsibleModule plus the connection options, a lazily built client and error reporting."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import copy
import weakref

from ansible.module_utils.basic import AnsibleModule

from .client import LyncClient
from .connection import CONNECTION_ARGUMENT_SPEC, ConnectionOptionError, ConnectionOptions
from .envelope import Call
from .response import CmdletError
from .error_ids import error_id, exception_is
from .lifetime import die_with_parent
from .session import WinRMSession


class LyncModule(AnsibleModule):
    """Base of every lync.migration module.

    ``module.client`` (built on first use) runs cmdlet calls; ``module.run_calls([Call(...)])`` is the short
    form. Tests replace the WinRM layer by setting ``LyncModule.session_factory`` to a fake session class.
    """

    session_factory = WinRMSession

    def __init__(self, argument_spec=None, supports_check_mode=True, **kwargs):
        spec = copy.deepcopy(CONNECTION_ARGUMENT_SPEC)
        for name in argument_spec or {}:
            if name in spec:
                raise ValueError("option %s is a connection option and cannot be redefined" % name)
        spec.update(argument_spec or {})
        super(LyncModule, self).__init__(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        try:
            self.connection = ConnectionOptions.from_params(self.params)
        except ConnectionOptionError as exc:
            self.fail_json(msg="option %s: %s" % (exc.option, exc))
        self._client = None
        self._close_at_exit = None

    @property
    def client(self):
        if self._client is None:
            # Nothing is sent to the server once the run that started this process is gone (lifetime.py).
            die_with_parent()
            self._client = LyncClient(self.connection, session_factory=type(self).session_factory)
            # A module that ends without exit_json or fail_json (an exception nobody caught) still closes its
            # workers: their shells would otherwise stay on the server until its IdleTimeout.
            self._close_at_exit = _closer_of(weakref.ref(self))
            atexit.register(self._close_at_exit)
        return self._client

    def run_calls(self, calls, on_result=None, modules=None):
        return self.client.run_calls(calls, on_result=on_result, modules=modules)

    def call_or_fail(self, cmdlet, params=None, select=None):
        """Run one call; fail the task with the server's error if it fails. Returns the objects."""
        result = self.run_calls([Call(cmdlet, params, select)])[0]
        if not result.ok:
            self.fail_json_from_error(result.error, cmdlet=cmdlet)
        return result.objects

    def fail_json_from_error(self, error, cmdlet=None, msg=None, **kwargs):
        """Fail with the server's message, FullyQualifiedErrorId, category, target and the failing cmdlet."""
        if not isinstance(error, CmdletError):
            error = CmdletError(str(error))
        text = msg or ("%s failed: %s" % (cmdlet, error.message) if cmdlet else error.message)
        hint = self.double_hop_hint(error) or permanent_error_hint(error)
        if hint:
            text = "%s\n%s" % (text, hint)
        details = error.to_dict()
        details["cmdlet"] = cmdlet
        self.close_client()
        self.fail_json(msg=text, error=details, **kwargs)

    def double_hop_hint(self, error):
        """The explanation for a directory bind refused to a non-delegated session (the double hop), or None."""
        connection = getattr(self, "connection", None)
        if connection is None or "000004DC" not in (error.message or ""):
            return None
        delegating = connection.transport == "credssp" or (
            connection.transport == "kerberos" and connection.kerberos_delegation)
        if delegating or connection.cmdlet_credential:
            return None
        return ("This is the double hop: a session opened with transport=%s cannot pass its credentials on from "
                "the Lync server to Active Directory or the SQL back end. Use transport=credssp (over https) or "
                "transport=kerberos with kerberos_delegation=true (a forwardable ticket), or set cmdlet_credential=true so the cmdlets get "
                "-Credential." % connection.transport)

    def close_client(self):
        if self._client is not None:
            client, self._client = self._client, None
            if getattr(self, "_close_at_exit", None) is not None:
                atexit.unregister(self._close_at_exit)
                self._close_at_exit = None
            client.close()

    def _close_with_host_output(self, kwargs):
        """Close the client; lines PowerShell wrote besides the envelope's go into the result as host_output."""
        client = getattr(self, "_client", None)
        if client is None:
            return
        self.close_client()
        if client.host_output and "host_output" not in kwargs:
            kwargs["host_output"] = list(client.host_output)

    def exit_json(self, **kwargs):
        self._close_with_host_output(kwargs)
        super(LyncModule, self).exit_json(**kwargs)

    def fail_json(self, msg, **kwargs):
        self._close_with_host_output(kwargs)
        super(LyncModule, self).fail_json(msg=msg, **kwargs)


def _closer_of(module_ref):
    """What atexit runs for a module whose client is still open when the process ends."""

    def close():
        module = module_ref()
        if module is not None:
            try:
                module.close_client()
            except Exception:  # pylint: disable=broad-except  # the process is ending: nobody is left to tell
                pass

    return close


def permanent_error_hint(error):
    """What to do about an error no retry can cure (recognised by exception type and error id, not by the
    localised message), or None."""
    if exception_is(error, "HostException"):
        return ("The cmdlet asked for a confirmation, which a WinRM command (powershell.exe -NonInteractive) cannot "
                "answer; nothing was changed. The module must answer the prompt itself (-Confirm:$false or -Force, "
                "where Microsoft documents it): report this as a defect of lync.migration.")
    if error_id(error) == "Modules_ModuleNotFound":
        return ("The module %s is not installed on this server: run the task on a server that has it (the Lync "
                "Server Management Shell is on the Lync Server 2013 servers, the lync_admin group)." % (error.target or ""))
    if error_id(error) == "CommandNotFoundException" or exception_is(error, "CommandNotFoundException"):
        return ("This server has no such command: a Lync cmdlet needs Lync Server 2013 on the server the task is "
                "delegated to; a Windows cmdlet may need a newer Windows PowerShell (docs/hosts.md).")
    return None


def as_bool(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("true", "1", "yes")
