"""invoke(): the single path every cmdlet call takes, whoever typed it.

Order: is the command there on this server at all -> double-hop rule -> injected transient fault -> modelled
service time (moves wait for a slot on the target pool) -> the implementation inside one store transaction ->
one audit line. -WhatIf is centralised here: implementations compute and return PowerShell's "What if:" message
object as if they had done the work, and the engine rolls their transaction back.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from pathlib import Path

from .cmdlets import load_all, lookup
from .errors import PSError
from .localisation import localise
from .model import servers
from .cmdlets.cs_support import non_interactive_prompt

_CATALOG = Path(__file__).parent / "data" / "lync2013-cmdlets.json"


@functools.lru_cache(maxsize=1)
def _lync_catalog() -> frozenset[str]:
    with open(_CATALOG, encoding="utf-8") as f:
        return frozenset(k.lower() for k in json.load(f)["cmdlets"])


def server_has(ctx, what: str) -> bool:
    """"lync" | "ocs" | "any": whether that server has the product, per the store (it changes as phases run)."""
    with ctx.lab.store.transaction(write=False) as tx:
        return servers.has(tx, ctx.server.fqdn, what)


def not_recognized(name: str) -> PSError:
    return PSError(
        f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable program. "
        "Check the spelling of the name, or if a path was included, verify that the path is correct and try again.",
        "CommandNotFoundException",
        category="ObjectNotFound",
        target=name,
        exception="System.Management.Automation.CommandNotFoundException",
    )


def sql_unavailable(ctx) -> PSError:
    """The transient error a Front End gives when its back-end SQL Server is momentarily unreachable."""
    backend = (ctx.server.pool or ctx.server.fqdn).split(".")[0] + "-sql"
    return PSError(
        "A network-related or instance-specific error occurred while establishing a connection to SQL Server. "
        "The server was not found or was not accessible. Verify that the instance name is correct and that SQL "
        "Server is configured to allow remote connections. (provider: TCP Provider, error: 0 - A connection "
        f"attempt failed because the connected party did not properly respond after a period of time.) [{backend}\\rtc]",
        "System.Data.SqlClient.SqlException",
        category="ConnectionError",
        exception="System.Data.SqlClient.SqlException",
        transient=True,
    )


def directory_bind_failed(ctx, cmdlet: str) -> PSError:
    """What a Front End says when it reaches AD with the anonymous identity of a non-delegated remote session."""
    dc = next((s.fqdn for s in ctx.lab.servers if s.role == "dc"), "dc01")
    return PSError(
        f'Active Directory operation failed on "{dc}". This error is not retriable. Additional information: An '
        "operations error occurred.\r\nActive directory response: 000004DC: LdapErr: DSID-0C0906E8, comment: In order "
        "to perform this operation a successful bind must be completed on the connection., data 0, v1db1",
        f"Microsoft.Rtc.Management.ADConnect.Core.ADOperationException,{_cmdlet_class(cmdlet)}",
        category="NotSpecified",
        exception="Microsoft.Rtc.Management.ADConnect.Core.ADOperationException",
    )


def _cmdlet_class(cmdlet: str) -> str:
    verb, _, noun = cmdlet.partition("-")
    return f"Microsoft.Rtc.Management.AD.Cmdlets.{verb}{noun.replace('Cs', 'Ocs', 1)}Cmdlet"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def invoke(ctx, cmdlet: str, params: dict, audit_params: dict | None = None) -> list[dict]:
    """Run one cmdlet call for ``ctx.session`` on ``ctx.server``; raises PSError with PowerShell's wording."""
    load_all()
    audit_params = params if audit_params is None else audit_params
    impl = lookup(cmdlet)
    name = impl.name if impl else cmdlet
    try:
        if impl is None:
            if cmdlet.lower() in _lync_catalog() and server_has(ctx, "lync"):
                raise PSError(
                    f"The rehearsal lab does not model {cmdlet}; see lab/README.md for the cmdlets it implements.",
                    "LabCmdletNotModelled",
                    category="NotImplemented",
                    target=cmdlet,
                    exception="System.NotImplementedException",
                )
            raise not_recognized(cmdlet)
        if not server_has(ctx, impl.requires):
            raise not_recognized(name)
        if (
            impl.needs_directory
            and getattr(ctx.lab.config, "double_hop", False)
            and not ctx.session.can_delegate
            and not params.get("Credential")
        ):
            raise directory_bind_failed(ctx, name)
        if impl.prompts is not None and not params.get("WhatIf") and impl.prompts(params):
            # -WhatIf never prompts: ShouldProcess answers it without asking.
            raise non_interactive_prompt(name)
        faults = getattr(ctx.lab, "faults", None)
        if faults is not None and faults.roll("cmdlet"):
            raise sql_unavailable(ctx)
        pool = params.get("Target") if impl.move else ctx.server.pool
        ctx.lab.latency.cmdlet(name, pool, move=impl.move)
        audit = ctx.lab.audit
        audit.prepare(ctx.lab.store)
        entry = audit.entry(_now(), ctx.session.user, ctx.server.fqdn, name, audit_params, "ok", None)
        with ctx.lab.store.transaction() as tx:
            result = impl.fn(ctx, params, tx)
            if params.get("WhatIf"):
                tx.discard()
            else:
                # The audit line commits with the change, so a kill between commit and append loses no line.
                audit.stage(tx, entry)
    except PSError as e:
        # A French or German server shows these errors in its language (FQID and exception type unchanged).
        shown = localise(e, getattr(ctx.server, "culture", None))
        record_rejected(ctx, name, audit_params, shown)
        if shown is e:
            raise
        raise shown from None
    if params.get("WhatIf"):
        audit.record(entry["time"], ctx.session.user, ctx.server.fqdn, name, audit_params, "ok", None)
    else:
        audit.confirm(ctx.lab.store, entry)
    return result if result is not None else []


def record_rejected(ctx, cmdlet: str, audit_params: dict, error: PSError) -> None:
    """Audit a call that failed (binding errors included), with the error PowerShell showed."""
    ctx.lab.audit.record(_now(), ctx.session.user, ctx.server.fqdn, cmdlet, audit_params, "error", error.to_dict())


def what_if(operation: str, target: str) -> dict:
    """The object for PowerShell's -WhatIf line: What if: Performing operation "X" on Target "Y"."""
    return {"WhatIf": f'What if: Performing operation "{operation}" on Target "{target}".'}
