"""Export-CsConfiguration (the CMS as a zip, e.g. for an Edge's local store) and Export-CsUserData (a pool's user
and conference directory data as a zip). Both files land in the server's modelled file system."""

from __future__ import annotations

import io
import json
import re
import zipfile

from ..model import topology as topo_model
from ..model import vfs
from .cs_support import invalid, require_pool, require_topology
from . import cmdlet

_ZIP_TIME = (2013, 6, 3, 9, 0, 0)


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, text in files.items():
            z.writestr(zipfile.ZipInfo(n, date_time=_ZIP_TIME), text)
    return buf.getvalue()


def _check_overwrite(tx, ctx, path: str, force: bool, cmdlet_name: str) -> None:
    if vfs.exists(tx, ctx, path) and not force:
        raise invalid(cmdlet_name, f"The file {vfs.full_path(ctx, path)} already exists. Use -Force to overwrite "
                                   "it.", target=path, category="ResourceExists")


@cmdlet("Export-CsConfiguration", requires="lync")
def export_cs_configuration(ctx, params, tx):
    name = "Export-CsConfiguration"
    require_topology(tx, name)
    settings = {k: d for k, d in tx.query("cmsconfig")}
    data = _zip({"Topology.xml": topo_model.current_xml(tx),
                 "DocItemSet.json": json.dumps(settings, sort_keys=True, indent=1)})
    if params.get("AsBytes"):
        return [list(data)]
    _check_overwrite(tx, ctx, params["FileName"], bool(params.get("Force")), name)
    vfs.write_bytes(tx, ctx, params["FileName"], data)
    return []


@cmdlet("Export-CsUserData", requires="lync", needs_directory=True)
def export_cs_user_data(ctx, params, tx):
    name = "Export-CsUserData"
    require_topology(tx, name)
    if params.get("PoolFqdn"):
        pool_doc = require_pool(tx, name, params["PoolFqdn"], "PoolFqdn", registrar=True)
        if pool_doc["legacy"]:
            # The cmdlet (introduced in Lync Server 2013) exports "user data and/or conference directory for a Lync
            # Server pool" in the Lync Server 2013 or 2010 user data format (Lync 2013 reference export-csuserdata.md;
            # office-docs-powershell Export-CsUserData.md: -PoolFqdn is "the Registrar pool containing the user
            # data"). An OCS 2007 R2 pool keeps its users and conference directories in its own back-end database,
            # which the cmdlet does not read. No page shows the error; the wording is assumed.
            raise invalid(name, f'Export-CsUserData exports the user data of a Lync Server pool; {pool_doc["Fqdn"]} is '
                                "an Office Communications Server 2007 R2 pool. Back up its back-end database with the "
                                "Office Communications Server 2007 R2 backup procedures instead.",
                          target=str(params["PoolFqdn"]), category="InvalidArgument")
        pool = pool_doc["Fqdn"].lower()
    else:
        raise invalid(name, "The lab models Export-CsUserData with -PoolFqdn only.", category="InvalidArgument")
    users = [d for _k, d in tx.query("user") if str(d.get("RegistrarPool") or "").lower() == pool]
    if params.get("UserFilter"):
        pattern = re.compile(re.escape(str(params["UserFilter"])).replace(r"\*", ".*"), re.IGNORECASE)
        users = [u for u in users if pattern.search(str(u.get("SipAddress", "")))]
    dirs = [d for _k, d in tx.query("confdir") if d.get("imported") and d["pool"].lower() == pool]
    if params.get("ConfDirectoryFilter"):
        wanted = {x.strip() for x in str(params["ConfDirectoryFilter"]).split(",")}
        dirs = [d for d in dirs if d["Identity"] in wanted]
    _check_overwrite(tx, ctx, params["FileName"], bool(params.get("Force")), name)
    content = {"Pool": pool, "Users": [u.get("SipAddress") for u in users],
               "ConferenceDirectories": [d["Identity"] for d in dirs]}
    vfs.write_bytes(tx, ctx, params["FileName"], _zip({"DocItemSet.json": json.dumps(content, indent=1)}))
    return []
