"""plugins/module_utils/lync/anonymise.py: stable pseudonyms that keep a value's shape and none of its letters."""

from __future__ import annotations

import pytest

from ansible_collections.lync.migration.plugins.module_utils.lync import anonymise as A


def test_pseudonyms_are_stable_keyed_and_keep_the_shape():
    p, q = A.Pseudonyms("salt-1"), A.Pseudonyms("salt-2")
    name = "  Patrick O'Brien-Sørensen "
    out = p.text("name", name)
    assert out == p.text("name", name) != q.text("name", name)
    assert len(out) == len(name) and out.startswith("  ") and out.endswith(" ")
    assert out[out.index("'")] == "'" and out.index("'") == name.index("'") and "-" in out
    assert out[name.index("ø")] in A._NON_ASCII_LOWER
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    assert sum(out[i] == name[i] for i in letters) < len(letters) / 3   # chance matches only
    assert p.text("name", "Default Policy") == "Default Policy"


def test_domains_keep_their_structure_and_references():
    p = A.Pseudonyms("s")
    dom = p.domain("contoso.net")
    assert dom.endswith(".net") and dom.count(".") == 1 and "contoso" not in dom
    fe = p.domain("ocs-fe01.contoso.net")
    assert fe.endswith("." + dom) and fe.count("-") == 1
    sip = p.sip("sip:ken.myer@contoso.net")
    assert sip.startswith("sip:") and sip.endswith("@" + dom) and sip.count(".") == 2
    assert p.dn("OU=Users,DC=contoso,DC=net").endswith(",DC=%s,DC=net" % dom.split(".")[0])
    tel = p.phone("tel:+14255550101")
    assert tel.startswith("tel:+") and len(tel) == len("tel:+14255550101") and tel != "tel:+14255550101"


def test_salt_is_required_and_not_echoed():
    with pytest.raises(A.AnonymiseError, match="lync_migration_capture_salt"):
        A.Pseudonyms("")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_a_scenario_keeps_counts_shared_names_and_membership():
    scenario = {
        "name": "mine", "domain": {"fqdn": "contoso.net", "netbios": "CONTOSO", "users_ou": "OU=Users,DC=contoso,DC=net"},
        "accounts": [{"user": "jsmith-adm", "password": "Lab-Passw0rd!", "groups": ["Domain Users"]}],
        "servers": [{"fqdn": "lync-fe01.contoso.net", "role": "lync_frontend", "pool": "pool02.contoso.net", "site": "Redmond"}],
        "legacy": {"pools": [{"fqdn": "pool01.contoso.net", "edition": "enterprise", "frontends": ["ocs-fe01.contoso.net"]}],
                   "meeting_policies": [{"name": "Executive Meeting Policy"}], "location_profiles": [{"name": "Redmond"}],
                   "voice_routes": [{"name": "Local Route", "pattern": "^\\+1425", "pstn_usages": ["Local"],
                                     "gateways": ["ocs-med01.contoso.net"]}]},
        "users": [{"name": "Ken Myer ", "sip": "ken.myer@contoso.net", "sam": "kmyer", "pool": "pool01.contoso.net",
                   "meeting_policy": "Executive Meeting Policy"},
                  {"name": "Ken Myer ", "sip": "ken.myer2@contoso.net", "sam": "kmyer2", "pool": "pool01.contoso.net",
                   "line_uri": "tel:+14255550101"}],
    }
    out = A.anonymise_scenario(scenario, "s3cret")
    assert len(out["users"]) == 2 and out["users"][0]["name"] == out["users"][1]["name"]
    assert out["users"][0]["name"].endswith(" ") and out["users"][0]["name"] != "Ken Myer "
    assert out["users"][0]["pool"] == out["legacy"]["pools"][0]["fqdn"]
    assert out["users"][0]["meeting_policy"] == out["legacy"]["meeting_policies"][0]["name"]
    assert out["accounts"][0]["user"] == A.LAB_ACCOUNT
    kept = {"lync_frontend", "enterprise", "Lab-Passw0rd!", "Domain Users"}
    originals = set(_strings(scenario)) - kept
    text = repr(out)
    assert [s for s in originals if s in text] == []


def test_patterns_keep_their_regular_expression_syntax():
    p = A.Pseudonyms("s")
    assert p.pattern("rule", r"^(\d{4})$") == r"^(\d{4})$"              # no literal data: unchanged
    out = p.pattern("rule", "+1425555$1")
    assert out.startswith("+") and out.endswith("$1") and out[1:-2].isdigit() and out != "+1425555$1"
    route = p.pattern("route", r"^\+1425")
    assert route.startswith(r"^\+") and route[3:].isdigit() and route != r"^\+1425"


def test_addresses_and_service_records():
    p = A.Pseudonyms("s")
    ip = p.ip("192.168.10.11")
    assert ip == p.ip("192.168.10.11") != p.ip("192.168.10.12") and ip.startswith("10.")
    assert all(0 <= int(o) <= 255 for o in ip.split("."))
    srv = p.dns_name("_sipinternaltls._tcp.contoso.net")
    assert srv.startswith("_sipinternaltls._tcp.") and srv.endswith("." + p.domain("contoso.net").split(".", 1)[1])
    assert srv == "_sipinternaltls._tcp." + p.domain("contoso.net")
