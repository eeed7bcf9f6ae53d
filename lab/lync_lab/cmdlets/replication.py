"""Central Management store replication: Get-CsManagementStoreReplicationStatus, Invoke-CsManagementStoreReplication.

The replicas are the computers of the published topology that hold a copy of the CMS (model.pool_objects.
replica_fqdns). A replica reports up to date when its Replica Replicator Agent (REPLICA) runs; a computer newly
added to the topology, or any replica after a publish, reads False until replication is invoked or the agent
on it starts.
"""

from __future__ import annotations

from ..model import pool_objects, servers
from .cs_support import not_found, require_topology
from . import cmdlet


def replica_agent_running(tx, fqdn: str) -> bool:
    doc = servers.get(tx, fqdn)
    if doc is None:
        return False
    return any(s["Name"].upper() == "REPLICA" and s["Status"] == "Running" for s in doc["Services"])


def _status_rows(tx, topo) -> list[dict]:
    rows = []
    for fqdn in pool_objects.replica_fqdns(topo):
        doc = tx.get("replica", fqdn) or {"UpToDate": False, "LastStatusReport": None, "LastUpdateCreation": None}
        product = servers.get(tx, fqdn)
        installed = bool(product) and servers.has(tx, fqdn, "lync")
        rows.append({
            "UpToDate": bool(doc["UpToDate"]) and installed,
            "ReplicaFqdn": fqdn,
            "LastStatusReport": doc.get("LastStatusReport") if installed else None,
            "LastUpdateCreation": doc.get("LastUpdateCreation"),
            "ProductVersion": pool_objects.PRODUCT_VERSION if installed else None,
        })
    return rows


@cmdlet("Get-CsManagementStoreReplicationStatus", requires="lync")
def get_cs_management_store_replication_status(ctx, params, tx):
    topo = require_topology(tx, "Get-CsManagementStoreReplicationStatus")
    if params.get("CentralManagementStoreStatus"):
        cms = topo.cms_service()
        rows = _status_rows(tx, topo)
        return [{
            "Identity": "Global",
            "ActiveMasterFqdn": topo.cluster(*cms.installed_on).machines[0] if cms else None,
            "ActiveFileTransferAgents": [topo.cluster(*cms.installed_on).machines[0]] if cms else [],
            "ActiveReplicatorAgents": [r["ReplicaFqdn"] for r in rows if r["ProductVersion"]],
            "DeletedReplicas": [],
            "ProductVersion": pool_objects.PRODUCT_VERSION,
            "SchemaVersion": 5,
            "SubSchemaVersion": 1204,
        }]
    rows = _status_rows(tx, topo)
    if params.get("ReplicaFqdn"):
        rows = [r for r in rows if r["ReplicaFqdn"].lower() == str(params["ReplicaFqdn"]).lower()]
        if not rows:
            raise not_found("Get-CsManagementStoreReplicationStatus", "replica", str(params["ReplicaFqdn"]))
    return rows


@cmdlet("Invoke-CsManagementStoreReplication", requires="lync")
def invoke_cs_management_store_replication(ctx, params, tx):
    topo = require_topology(tx, "Invoke-CsManagementStoreReplication")
    targets = pool_objects.replica_fqdns(topo)
    if params.get("ReplicaFqdn"):
        targets = [f for f in targets if f.lower() == str(params["ReplicaFqdn"]).lower()]
        if not targets:
            raise not_found("Invoke-CsManagementStoreReplication", "replica", str(params["ReplicaFqdn"]))
    now = pool_objects.now()
    for fqdn in targets:
        doc = tx.get("replica", fqdn) or {"UpToDate": False, "LastStatusReport": None}
        doc["LastUpdateCreation"] = now
        if replica_agent_running(tx, fqdn):
            doc.update(UpToDate=True, LastStatusReport=now)
        tx.put("replica", fqdn, doc)
    return []


def topology_changed(tx, topo) -> None:
    """A publish creates a new CMS update: every replica reads False until it reports again."""
    now = pool_objects.now()
    for fqdn in pool_objects.replica_fqdns(topo):
        doc = tx.get("replica", fqdn) or {"LastStatusReport": None}
        doc.update(UpToDate=False, LastUpdateCreation=now)
        tx.put("replica", fqdn, doc)
