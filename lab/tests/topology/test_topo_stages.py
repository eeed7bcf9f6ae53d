"""Each stage's topology as an admin sees it on lync-fe01, and the scenario's topology: section validation."""

from __future__ import annotations

import copy

import pytest

from lync_lab.errors import LabConfigError
from lync_lab.model.scenario import load_scenario
from lync_lab.model.topology import validate_topology_section

LEGACY = {"pool01.contoso.net", "ocs-med01.contoso.net", "ocs-edge01.contoso.net"}
PILOT = {"pool02.contoso.net", "lync-sql01.contoso.net"}
EXPECTED = {
    # stage: (pools, federation route of site Redmond, pool02's media Edge)
    4: (PILOT, None, None),
    5: (PILOT | LEGACY, None, None),
    6: (PILOT | LEGACY, "EdgeServer:ocs-edge01.contoso.net", "EdgeServer:ocs-edge01.contoso.net"),
    7: (PILOT | LEGACY, "EdgeServer:ocs-edge01.contoso.net", "EdgeServer:ocs-edge01.contoso.net"),
    8: (PILOT | LEGACY | {"edgepool02.contoso.net"}, "EdgeServer:ocs-edge01.contoso.net",
        "EdgeServer:ocs-edge01.contoso.net"),
    9: (PILOT | LEGACY | {"edgepool02.contoso.net"}, "EdgeServer:edgepool02.contoso.net",
        "EdgeServer:edgepool02.contoso.net"),
    10: (PILOT | LEGACY | {"edgepool02.contoso.net"}, "EdgeServer:edgepool02.contoso.net",
         "EdgeServer:edgepool02.contoso.net"),
    11: (PILOT | {"edgepool02.contoso.net"}, "EdgeServer:edgepool02.contoso.net",
         "EdgeServer:edgepool02.contoso.net"),
}


@pytest.mark.parametrize("stage", sorted(EXPECTED))
def test_each_stage_topology(fe, stage):
    sh = fe(stage)
    pools, route, media = EXPECTED[stage]
    assert {p["Fqdn"] for p in sh("Get-CsPool")} == pools
    site = sh("Get-CsSite", Identity="Site:Redmond")[0]
    assert site["FederationRoute"] == route
    registrar = sh("Get-CsService", Registrar=True, PoolFqdn="pool02.contoso.net")[0]
    assert registrar.get("EdgeServer") == media
    edges = {e["PoolFqdn"]: e["IsFederationEnabled"] for e in sh("Get-CsService", EdgeServer=True)}
    if "ocs-edge01.contoso.net" in edges:
        assert edges["ocs-edge01.contoso.net"] is (stage < 9)
    if "edgepool02.contoso.net" in edges:
        assert edges["edgepool02.contoso.net"] is (stage >= 9)


def section():
    return copy.deepcopy(load_scenario("contoso-small").raw["topology"])


@pytest.mark.parametrize("change, field", [
    (lambda s: s.pop("pilot_pool"), "topology.pilot_pool"),
    (lambda s: s["legacy_edges"][0].pop("access_edge"), "topology.legacy_edges[0].access_edge"),
    (lambda s: s["conference_directories"].append({"id": 3, "pool": "pool01.contoso.net"}),
     "topology.conference_directories[1].id"),
    (lambda s: s["exum_contacts"][0].update(type="XX"), "topology.exum_contacts[0].type"),
    (lambda s: s["response_groups"][0].update(pool="pool09.contoso.net"), "topology.response_groups[0].pool"),
    (lambda s: s.update(sites=[]), "topology.sites"),
])
def test_topology_section_errors_name_the_file_and_field(change, field):
    s = section()
    change(s)
    with pytest.raises(LabConfigError) as info:
        validate_topology_section(s, "scenarios/x.yml")
    assert str(info.value).startswith(f"scenarios/x.yml: {field}:")
