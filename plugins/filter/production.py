# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the production role (Phase 8): the preflight gate's failures, from what the role has read. They only
reshape data; none talks to a server."""

from __future__ import annotations

from collections.abc import Mapping

ACCESS_EDGE_SERVICE = "Lync Server Access Edge"
_PHASE7 = "run Phase 7 (phase7-add-edge.yml) first"


def _lower(value):
    return str(value or "").lower()


def production_gate_failures(edge_pool, pool_ids, edge_services, legacy_edges):
    """Why Phase 8 cannot start, one sentence per problem naming its fix.

    ``edge_pool`` is the inventory's Lync Edge pool ({fqdn, ...}, empty when not described), ``pool_ids`` the
    Identity of every pool of the topology (Get-CsPool), ``edge_services`` the results of the Windows services
    read on each Lync Edge Server ({item: host, objects: [service, ...]}), ``legacy_edges`` the inventory's OCS
    2007 R2 Edges ({internal_fqdn, access_edge_fqdn, webconf_edge_fqdn, av_edge_fqdn})."""
    failures = []
    # Inputs of the wrong shape (an Edge pool that is a string ...) are the inputs check's to report, not the gate's.
    fqdn = (edge_pool.get("fqdn") if isinstance(edge_pool, Mapping) else "") or ""
    if not fqdn:
        failures.append("The Lync Edge pool is not described in the inventory (lync_migration_lync_edge_pool): "
                        "describe it and " + _PHASE7)
    elif fqdn.lower() not in {_lower(p) for p in pool_ids or []}:
        failures.append("The Lync Edge pool %s is not in the topology: %s" % (fqdn, _PHASE7))
    for result in [r for r in edge_services or [] if isinstance(r, Mapping)]:
        access = [s for s in result.get("objects") or [] if s.get("DisplayName") == ACCESS_EDGE_SERVICE]
        if not access or access[0].get("Status") != "Running":
            failures.append("Lync Server 2013 is not installed and running on the Edge Server %s: %s"
                            % (result.get("item"), _PHASE7))
    for edge in [e for e in legacy_edges or [] if isinstance(e, Mapping)]:
        # The guide's procedure needs the legacy Edge's three services under distinct FQDNs.
        access = _lower(edge.get("access_edge_fqdn"))
        if access == _lower(edge.get("webconf_edge_fqdn")) and access == _lower(edge.get("av_edge_fqdn")):
            failures.append(
                "The legacy Edge %s uses one FQDN (%s) for its Access, Web Conferencing and A/V Edge services: the "
                "guide does not support this procedure then. Move all users first (P8.2, "
                "playbooks/phase6-move-users.yml with move_users_all_legacy=true), decommission that Edge, and only "
                "then enable federation on the Lync Edge" % (edge.get("internal_fqdn"), edge.get("access_edge_fqdn")))
    return failures


class FilterModule(object):
    def filters(self):
        return {"production_gate_failures": production_gate_failures}
