"""Small helpers the topology-side cmdlets share: Lync's error shapes, identities and -Filter matching.

Cmdlet-layer code (it knows cmdlet names and their error ids), so it lives with the cmdlets; it registers no
cmdlet. The engine uses non_interactive_prompt."""

from __future__ import annotations

import re
from typing import Any

from ..errors import PSError
from ..model import servers
from ..model import topology as topo_model
from ..model import topology_xml


def cmdlet_class(cmdlet: str) -> str:
    verb, _, noun = cmdlet.partition("-")
    return f"Microsoft.Rtc.Management.Internal.{verb}{noun.replace('Cs', 'Ocs', 1)}Cmdlet"


def not_found(cmdlet: str, what: str, identity: str) -> PSError:
    return PSError(f'Cannot find {what} "{identity}".', f"ObjectNotFound,{cmdlet_class(cmdlet)}",
                   category="ObjectNotFound", target=identity,
                   exception="Microsoft.Rtc.Management.ManagementException")


def invalid(cmdlet: str, message: str, target: str | None = None, category: str = "InvalidOperation") -> PSError:
    return PSError(message, f"{category},{cmdlet_class(cmdlet)}", category=category, target=target,
                   exception="System.InvalidOperationException")


def no_cms(cmdlet: str) -> PSError:
    # The way to a store is Install-CsDatabase -CentralManagementDatabase, Set-CsConfigurationStoreLocation, then a
    # first publish (Install-CsDatabase.md, Set-CsConfigurationStoreLocation.md); the wording is assumed.
    return PSError("Active Directory does not contain the location of the Central Management store. Create the "
                   "store with Install-CsDatabase -CentralManagementDatabase, set its location with "
                   "Set-CsConfigurationStoreLocation and publish a topology before running this cmdlet.",
                   f"NoCentralManagementStore,{cmdlet_class(cmdlet)}", category="ResourceUnavailable",
                   exception="Microsoft.Rtc.Management.ManagementException")


def require_topology(tx: Any, cmdlet: str) -> topology_xml.Topology:
    topo = topo_model.current(tx)
    if topo is None:
        raise no_cms(cmdlet)
    return topo


def strip_prefix(identity: str, *prefixes: str) -> str:
    ident = str(identity).strip()
    for p in prefixes:
        if ident.lower().startswith(p.lower()):
            return ident[len(p):]
    return ident


def require_pool(tx: Any, cmdlet: str, fqdn: str, param: str = "Identity", registrar: bool = False) -> dict:
    pool = topo_model.find_pool(tx, strip_prefix(fqdn, "service:Registrar:", "Registrar:", "service:"))
    if pool is None or (registrar and not pool["registrar"]):
        kind = "Registrar pool" if registrar else "pool"
        raise PSError(f'Cannot find {kind} "{fqdn}" in the topology. Check that the {param} is a {kind} FQDN '
                      "defined in the published topology.", f"PoolNotFound,{cmdlet_class(cmdlet)}",
                      category="ObjectNotFound", target=fqdn,
                      exception="Microsoft.Rtc.Management.ManagementException")
    return pool


_FILTER = re.compile(r"^\s*\{?\s*(\w+)\s+-(eq|ne|like|notlike)\s+(?:\"([^\"]*)\"|'([^']*)'|(\$true|\$false|\S+))\s*\}?\s*$",
                     re.IGNORECASE)


# Get- cmdlets whose -Filter is a wildcard string on the Identity, not a {Property -op value} filter: their pages
# (office-docs-powershell skype/skype-ps/SkypeForBusiness/<cmdlet>.md, -Filter) say "Enables you to use wildcards
# when specifying the Identity", e.g. Get-CsComputer -Filter "*.litwareinc.com".
IDENTITY_WILDCARD_FILTERS = ("Get-CsComputer", "Get-CsSite", "Get-CsService", "Get-CsConferenceDirectory")


def filter_matches(filter_text: str | None, cmdlet: str) -> "callable":
    """A predicate for the simple `{Property -op "value"}` filters the guide uses (-eq, -ne, -like, -notlike),
    or, for the cmdlets of IDENTITY_WILDCARD_FILTERS, a wildcard on the Identity."""
    if not filter_text:
        return lambda _doc: True
    m = _FILTER.match(str(filter_text))
    if not m and cmdlet in IDENTITY_WILDCARD_FILTERS:
        wildcard = re.compile("^" + re.escape(str(filter_text).strip()).replace(r"\*", ".*").replace(r"\?", ".") + "$",
                              re.IGNORECASE)
        return lambda doc: wildcard.match(str(next((v for k, v in doc.items() if k.lower() == "identity"), ""))) \
            is not None
    if not m:
        raise PSError(f'Cannot bind parameter \'Filter\'. The filter "{filter_text}" is not valid: the lab '
                      'understands {Property -eq "value"} with -eq, -ne, -like and -notlike.',
                      f"ParameterArgumentValidationError,{cmdlet_class(cmdlet)}", category="InvalidArgument",
                      target=str(filter_text), exception="System.Management.Automation.ParameterBindingException")
    prop, op, v1, v2, v3 = m.groups()
    value = v1 if v1 is not None else v2 if v2 is not None else v3
    if value and value.lower() in ("$true", "$false"):
        value = value.lower() == "$true"
    op = op.lower()

    def pred(doc: dict) -> bool:
        actual = next((v for k, v in doc.items() if k.lower() == prop.lower()), None)
        if isinstance(value, bool):
            hit = actual is value
        elif op in ("like", "notlike"):
            pattern = "^" + re.escape(str(value)).replace(r"\*", ".*").replace(r"\?", ".") + "$"
            hit = actual is not None and re.match(pattern, str(actual), re.IGNORECASE) is not None
        else:
            hit = actual is not None and str(actual).lower() == str(value).lower()
        return not hit if op in ("ne", "notlike") else hit

    return pred


def public(doc: dict) -> dict:
    """The object as Lync shows it: the lab's bookkeeping keys (lower-case) left out."""
    return {k: v for k, v in doc.items() if k[:1].isupper()}


def non_interactive_prompt(cmdlet: str) -> PSError:
    """A confirmation prompt in a WinRM command (powershell.exe -NonInteractive) fails instead of asking."""
    return PSError("PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
                   f"HostException,{cmdlet_class(cmdlet)}", category="ResourceUnavailable",
                   exception="System.Management.Automation.Host.HostException")


def pool_available(tx: Any, pool: dict) -> bool:
    """A pool answers when the Front-End service (RTCSRV) runs on at least one of its computers; computers the lab
    keeps no server state for (SQL stores, file servers) count as running."""
    known = False
    for fqdn in pool.get("Computers", []):
        doc = servers.get(tx, fqdn)
        if doc is None:
            continue
        known = True
        if any(s["Name"].upper() == "RTCSRV" and s["Status"] == "Running" for s in doc["Services"]):
            return True
    return not known
