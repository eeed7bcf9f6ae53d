"""Response Group: Get-CsRgsAgentGroup/-Queue/-Workflow, Export-/Import-/Move-CsRgsConfiguration.

Objects live per pool's ApplicationServer service (kinds rgs_group, rgs_queue, rgs_workflow). The copy on an
OCS 2007 R2 pool is the legacy data: the Lync cmdlets do not list it, Move-CsRgsConfiguration copies it and
leaves it in place (the guide: it must not be removed while the pool exists).
"""

from __future__ import annotations

import io
import json
import zipfile

from ..errors import PSError
from ..model import pool_objects, servers, vfs
from ..model import topology as topo_model
from .cs_support import cmdlet_class, invalid, not_found, public, require_pool, require_topology
from . import cmdlet
from .topology import wmi_provider_error

RGS_KINDS = ("rgs_group", "rgs_queue", "rgs_workflow")


# The Response Group service identity (type RgsIdentity) in the two forms Microsoft's pages use: Get-CsRgsAgentGroup,
# Get-CsRgsQueue and Get-CsRgsWorkflow (-Identity "service:ApplicationServer:atl-cs-001.litwareinc.com", optionally
# followed by "/<GUID>" for one object; Example 5 of Get-CsRgsAgentGroup writes "Service:") and Export-/
# Import-CsRgsConfiguration (-Source/-Destination "ApplicationServer:atl-rgs-001.litwareinc.com"; the Remove-CsRgs*
# pages use that form for -Identity too). office-docs-powershell skype/skype-ps/SkypeForBusiness/<cmdlet>.md.
_RGS_SERVICE_PREFIXES = ("service:ApplicationServer:", "ApplicationServer:")


def _service_pool(cmdlet_name: str, param: str, identity: str) -> tuple[str, str | None]:
    """"service:ApplicationServer:pool02.contoso.net/<guid>" -> ("pool02.contoso.net", "<guid>").

    Any other form (a bare pool FQDN, "service:<fqdn>", "Registrar:<fqdn>") is refused: no page documents it for
    -Identity, -Source or -Destination. The wording of the refusal is assumed (no page shows it)."""
    text = str(identity).strip()
    prefix = next((p for p in _RGS_SERVICE_PREFIXES if text.lower().startswith(p.lower())), None)
    rest = text[len(prefix):] if prefix else ""
    pool, _, guid = rest.partition("/")
    pool = pool.strip()
    if not prefix or not pool or ":" in pool:
        raise PSError(f'Cannot bind parameter \'{param}\'. "{text}" is not a Response Group service identity: write '
                      '"service:ApplicationServer:<pool FQDN>" or "ApplicationServer:<pool FQDN>" (with "/<GUID>" '
                      "for a single object).", f"ParameterArgumentTransformationError,{cmdlet_class(cmdlet_name)}",
                      category="InvalidArgument", target=text,
                      exception="System.Management.Automation.ParameterBindingException")
    return pool, guid.strip() or None


def _pool_fqdn_only(cmdlet_name: str, param: str, value: str) -> str:
    """Move-CsRgsConfiguration's -Source/-Destination are pool FQDNs (String), as its page and the Lync 2013 topic
    "Migrate response groups" (Move-CsRgsConfiguration -Source pool01.contoso.net -Destination pool02.contoso.net)
    show; a service identity such as "ApplicationServer:pool01.contoso.net" names no pool. Wording assumed."""
    text = str(value).strip()
    if ":" in text or "/" in text:
        raise PSError(f'Cannot find a pool with the fully qualified domain name "{text}". -{param} takes the pool '
                      "FQDN alone, for example pool01.contoso.net.", f"PoolNotFound,{cmdlet_class(cmdlet_name)}",
                      category="ObjectNotFound", target=text,
                      exception="Microsoft.Rtc.Management.ManagementException")
    return text


def _lync_app_pool(tx, cmdlet: str, fqdn: str, param: str) -> dict:
    pool = require_pool(tx, cmdlet, fqdn, param)
    if not any(s.lower().startswith("applicationserver:") for s in pool["Services"]):
        raise invalid(cmdlet, f"The pool {pool['Fqdn']} has no ApplicationServer service (Response Group is not "
                              "deployed there).", target=fqdn, category="InvalidArgument")
    return pool


def _objects(tx, kind: str, pool: str) -> list[tuple[str, dict]]:
    return [(k, d) for k, d in tx.query(kind) if d["OwnerPool"].lower() == pool.lower()]


def _get(kind: str, cmdlet_name: str):
    def impl(ctx, params, tx):
        require_topology(tx, cmdlet_name)
        pools = [d for _k, d in tx.query("pool") if not d["legacy"]]
        ident = params.get("Identity")
        want_guid = None
        if ident:
            pool_fqdn, want_guid = _service_pool(cmdlet_name, "Identity", str(ident))
            pool = topo_model.find_pool(tx, pool_fqdn)
            if pool is None or pool["legacy"]:
                raise not_found(cmdlet_name, "Response Group service", str(ident))
            pools = [pool]
        rows = []
        for pool in pools:
            for _k, d in _objects(tx, kind, pool["Fqdn"]):
                if want_guid and not d["Identity"].lower().endswith("/" + want_guid.lower()):
                    continue
                if params.get("Name") and d["Name"].lower() != str(params["Name"]).lower():
                    continue
                rows.append(public(d))
        if want_guid and not rows:
            raise not_found(cmdlet_name, "Response Group object", str(ident))
        return rows

    impl.__name__ = cmdlet_name.replace("-", "_").lower()
    return impl


cmdlet("Get-CsRgsAgentGroup", requires="lync")(_get("rgs_group", "Get-CsRgsAgentGroup"))
cmdlet("Get-CsRgsQueue", requires="lync")(_get("rgs_queue", "Get-CsRgsQueue"))
cmdlet("Get-CsRgsWorkflow", requires="lync")(_get("rgs_workflow", "Get-CsRgsWorkflow"))


def _copy_rgs(tx, source: str, destination: str, replace: bool, cmdlet_name: str, objects=None) -> int:
    """Copy a pool's Response Group objects to another pool (new identities on the destination service)."""
    objects = objects if objects is not None else {kind: [d for _k, d in _objects(tx, kind, source)]
                                                   for kind in RGS_KINDS}
    if not replace:
        clashes = [d["Name"] for kind in RGS_KINDS for d in objects.get(kind, [])
                   if tx.get(kind, f"{destination}/{d['Name']}") is not None]
        if clashes:
            raise PSError(f"Response Group objects with these names already exist on {destination}: "
                          f"{', '.join(sorted(clashes))}.", f"NameConflict,{cmdlet_class(cmdlet_name)}",
                          category="ResourceExists", target=destination,
                          exception="Microsoft.Rtc.Rgs.Management.RgsException")
    ids: dict[str, str] = {}
    count = 0
    for kind in RGS_KINDS:   # groups first, then queues (refer to groups), then workflows (refer to queues)
        for d in objects.get(kind, []):
            new = dict(d, OwnerPool=destination, Identity=pool_objects.rgs_identity(kind, destination, d["Name"]))
            ids[d["Identity"]] = new["Identity"]
            if "AgentGroupIDList" in new:
                new["AgentGroupIDList"] = [ids.get(x, x) for x in new["AgentGroupIDList"]]
            if "DefaultAction" in new:
                for old_id, new_id in ids.items():
                    new["DefaultAction"] = new["DefaultAction"].replace(old_id, new_id)
            tx.put(kind, f"{destination}/{d['Name']}", new)
            count += 1
    return count


@cmdlet("Move-CsRgsConfiguration", requires="lync")
def move_cs_rgs_configuration(ctx, params, tx):
    name = "Move-CsRgsConfiguration"
    if not servers.installed(tx, ctx.server.fqdn, servers.OCSWMIBC):
        raise wmi_provider_error(name)
    require_topology(tx, name)
    src_fqdn = _pool_fqdn_only(name, "Source", params["Source"])
    dst_fqdn = _pool_fqdn_only(name, "Destination", params["Destination"])
    src = require_pool(tx, name, src_fqdn, "Source")
    if not src["legacy"]:
        raise invalid(name, f"The source pool {src['Fqdn']} is not an Office Communications Server 2007 R2 pool; "
                            "Move-CsRgsConfiguration moves Response Groups from a legacy pool.", target=src_fqdn,
                      category="InvalidArgument")
    dst = _lync_app_pool(tx, name, dst_fqdn, "Destination")
    if dst["legacy"]:
        raise invalid(name, f"The destination pool {dst['Fqdn']} must be a Lync Server 2013 pool.", target=dst_fqdn,
                      category="InvalidArgument")
    _copy_rgs(tx, src["Fqdn"], dst["Fqdn"], replace=False, cmdlet_name=name)
    # The workflows' contact objects move; the legacy agent groups, queues and workflows stay where they are.
    for key, ep in tx.query("endpoint"):
        if ep["OwnerUrn"] == "urn:application:Rgs" and ep["RegistrarPool"].lower() == src["Fqdn"].lower():
            tx.put("endpoint", key, dict(ep, RegistrarPool=dst["Fqdn"]))
    return []


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, text in files.items():
            z.writestr(zipfile.ZipInfo(n, date_time=(2013, 6, 3, 9, 0, 0)), text)
    return buf.getvalue()


@cmdlet("Export-CsRgsConfiguration", requires="lync")
def export_cs_rgs_configuration(ctx, params, tx):
    name = "Export-CsRgsConfiguration"
    require_topology(tx, name)
    pool_fqdn, _ = _service_pool(name, "Source", str(params["Source"]))
    pool = _lync_app_pool(tx, name, pool_fqdn, "Source")
    if pool["legacy"]:
        raise invalid(name, f"{pool['Fqdn']} is an Office Communications Server 2007 R2 pool; export its Response "
                            "Groups after Move-CsRgsConfiguration, from the Lync Server 2013 pool.",
                      target=pool_fqdn, category="InvalidArgument")
    data = {kind: [d for _k, d in _objects(tx, kind, pool["Fqdn"])] for kind in RGS_KINDS}
    path = params["FileName"]
    if vfs.exists(tx, ctx, path):
        # Export-CsRgsConfiguration.md, -FileName: the command fails if this file already exists; -Force only
        # suppresses non-fatal messages (wording assumed).
        raise invalid(name, f"The file {vfs.full_path(ctx, path)} already exists. Specify a file that does not "
                            "exist.", target=path, category="ResourceExists")
    vfs.write_bytes(tx, ctx, path, _zip({"RgsConfiguration.json": json.dumps({"source": pool["Fqdn"], **data})}))
    if params.get("RemoveExportedConfiguration"):
        for kind in RGS_KINDS:
            for k, _d in _objects(tx, kind, pool["Fqdn"]):
                tx.delete(kind, k)
    return []


@cmdlet("Import-CsRgsConfiguration", requires="lync")
def import_cs_rgs_configuration(ctx, params, tx):
    name = "Import-CsRgsConfiguration"
    require_topology(tx, name)
    pool_fqdn, _ = _service_pool(name, "Destination", str(params["Destination"]))
    pool = _lync_app_pool(tx, name, pool_fqdn, "Destination")
    doc = vfs.read(tx, ctx, params["FileName"])
    if doc is None:
        raise PSError(f"Could not find file '{vfs.full_path(ctx, params['FileName'])}'.",
                      f"FileNotFound,{cmdlet_class(name)}", category="ObjectNotFound", target=params["FileName"],
                      exception="System.IO.FileNotFoundException")
    import base64

    try:
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(doc["Binary"] or ""))) as z:
            data = json.loads(z.read("RgsConfiguration.json"))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise invalid(name, f"{params['FileName']} is not a file written by Export-CsRgsConfiguration.",
                      target=params["FileName"], category="InvalidData") from None
    _copy_rgs(tx, data["source"], pool["Fqdn"], replace=bool(params.get("ReplaceExistingRgsSettings")),
              cmdlet_name=name, objects={k: data.get(k, []) for k in RGS_KINDS})
    return []
