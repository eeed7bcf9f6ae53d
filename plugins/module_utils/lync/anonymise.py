# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Anonymise a captured scenario (plugins/module_utils/lync/capture.py) with stable pseudonyms.

Every pseudonym is an HMAC-SHA256 of (salt, kind, value): the same value gives the same pseudonym in every place
and every capture made with the same salt, so pool membership, users who share a display name and the references
between objects (a user's pool and policy, a route's gateways) survive. A pseudonym keeps the value's shape and
nothing of its letters: each ASCII letter becomes a letter of the same case, each digit a digit, each non-ASCII
letter a non-ASCII letter; spaces (leading and trailing ones too), apostrophes, dots, hyphens and the like stay
where they were. Domain names are mapped label by label (the top-level label kept), so a domain's structure and
every FQDN under it keep their shape. The lab's own vocabulary (roles, editions, Microsoft's default policy name,
the lab account's groups and password) is kept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import re

# Kept as is: words the lab or Microsoft defines, not the deployment.
VOCABULARY = frozenset(["Default Policy"])
LAB_ACCOUNT = "labadmin"
_NON_ASCII_LOWER = "àéîõüçñøåæ"
_NON_ASCII_UPPER = "ÀÉÎÕÜÇÑØÅÆ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_RDN = re.compile(r"(?<!\\),")


class AnonymiseError(ValueError):
    pass


class Pseudonyms:
    def __init__(self, salt):
        if not salt:
            raise AnonymiseError("anonymising needs a salt: set lync_migration_capture_salt (keep it: the same salt "
                                 "gives the same pseudonyms in the next capture)")
        self._key = salt.encode("utf-8") if isinstance(salt, str) else bytes(salt)

    def _stream(self, kind, value):
        counter = 0
        while True:
            block = hmac.new(self._key, ("%s\0%s\0%d" % (kind, value, counter)).encode("utf-8"), hashlib.sha256).digest()
            yield from block
            counter += 1

    def text(self, kind, value):
        """``value`` with its letters and digits replaced, everything else (spaces, ', ., -, ...) kept."""
        if value in VOCABULARY:
            return value
        stream = self._stream(kind, value)
        out = []
        for ch in value:
            if "a" <= ch.lower() <= "z" and ch.isascii():
                letter = _LOWER[next(stream) % 26]
                out.append(letter.upper() if ch.isupper() else letter)
            elif ch.isdigit() and ch.isascii():
                out.append(_DIGITS[next(stream) % 10])
            elif ch.isalpha():
                pool = _NON_ASCII_UPPER if ch.isupper() else _NON_ASCII_LOWER
                out.append(pool[next(stream) % len(pool)])
            else:
                out.append(ch)
        result = "".join(out)
        if result == value and any(c.isalnum() for c in value):
            # Vanishingly rare (a short value mapped onto itself): take the next candidate.
            return self.text(kind + "'", value)
        return result

    def domain(self, fqdn):
        """Label by label, the top-level label kept: pool01.contoso.net -> xkwd93.qmtrbzw.net."""
        labels = fqdn.split(".")
        if len(labels) < 2:
            return self.text("label", fqdn)
        return ".".join([self.text("label", label.lower()) for label in labels[:-1]] + [labels[-1].lower()])

    def sip(self, address):
        prefix = "sip:" if address.lower().startswith("sip:") else ""
        bare = address[len(prefix):]
        local, _sep, domain = bare.rpartition("@")
        if not local:
            return prefix + self.domain(bare)
        return "%s%s@%s" % (prefix, self.text("local", local.lower()), self.domain(domain))

    def phone(self, uri):
        """tel:+14255550101 -> tel:+73019286655 (the digits of the whole number replaced, its shape kept)."""
        if uri.lower().startswith("tel:"):
            return "tel:" + self.text("phone", uri[4:])
        return self.text("phone", uri)

    def pattern(self, kind, value):
        """A normalization or route pattern / translation: literal digits and letters replaced, the regular
        expression's syntax kept (escapes such as \\d, {4} quantifiers, $1 back-references)."""
        stream = self._stream(kind, value)
        out, escaped, in_braces, after_dollar = [], False, False, False
        for ch in value:
            keep = escaped or in_braces or (after_dollar and ch.isdigit())
            if not keep and ch.isascii() and ch.isdigit():
                out.append(_DIGITS[next(stream) % 10])
            elif not keep and ch.isascii() and ch.isalpha():
                letter = _LOWER[next(stream) % 26]
                out.append(letter.upper() if ch.isupper() else letter)
            else:
                out.append(ch)
            in_braces = (in_braces or (ch == "{" and not escaped)) and not (ch == "}" and not escaped)
            after_dollar = (ch == "$" and not escaped) or (after_dollar and ch.isdigit())
            escaped = ch == "\\" and not escaped
        return "".join(out)

    def ip(self, address):
        """An IPv4 address -> one in 10.0.0.0/8 (the same address, the same pseudonym)."""
        digest = hmac.new(self._key, ("ip\0%s" % address).encode("utf-8"), hashlib.sha256).digest()
        return "10.%d.%d.%d" % (digest[0], digest[1], 1 + digest[2] % 254)

    def dns_name(self, name):
        """A DNS name: service labels (_sipinternaltls, _tcp) kept, the rest as a domain."""
        labels = name.split(".")
        service = [label for label in labels if label.startswith("_")]
        rest = ".".join(labels[len(service):])
        return ".".join(service + ([self.domain(rest)] if rest else []))

    def dn(self, dn):
        """OU=Users,OU=Contoso,DC=contoso,DC=net: each OU/CN value pseudonymised, the DC labels as domain labels."""
        out = []
        for rdn in _RDN.split(dn):
            attr, _sep, value = rdn.partition("=")
            if attr.upper() == "DC":
                out.append("DC=" + self.text("label", value.lower()) if value.lower() not in _tlds(dn) else rdn)
            else:
                out.append("%s=%s" % (attr, self.text("rdn", value)))
        return ",".join(out)


def _tlds(dn):
    dcs = [r.partition("=")[2].lower() for r in _RDN.split(dn) if r.upper().startswith("DC=")]
    return {dcs[-1]} if len(dcs) > 1 else set()


def _unique(items, key, fix):
    """Make ``item[key]`` unique (case-insensitively) after pseudonymising, in list order, with ``fix(value, n)``."""
    seen = set()
    for item in items:
        value, n = item[key], 1
        while value.lower() in seen:
            value, n = fix(item[key], n), n + 1
        item[key] = value
        seen.add(value.lower())


def anonymise_scenario(scenario, salt):
    """A copy of the captured ``scenario`` with every name, address, number, domain and FQDN pseudonymised."""
    p = Pseudonyms(salt)
    s = dict(scenario, name="anonymised-" + p.text("scenario", scenario["name"].lower()))
    s["domain"] = {"fqdn": p.domain(scenario["domain"]["fqdn"]),
                   "netbios": p.text("netbios", scenario["domain"]["netbios"].upper()).upper(),
                   "users_ou": p.dn(scenario["domain"]["users_ou"])}
    s["accounts"] = [dict(a, user=LAB_ACCOUNT) for a in scenario["accounts"]]
    s["servers"] = []
    for server in scenario["servers"]:
        new = dict(server, fqdn=p.domain(server["fqdn"]))
        if server.get("pool"):
            new["pool"] = p.domain(server["pool"])
        if server.get("site"):
            new["site"] = p.text("site", server["site"])
        s["servers"].append(new)
    s["legacy"] = _legacy(scenario.get("legacy") or {}, p)
    users = []
    for user in scenario.get("users") or []:
        new = dict(user, name=p.text("name", user["name"]), sip=p.sip(user["sip"]), sam=p.text("sam", user["sam"]),
                   pool=p.domain(user["pool"]))
        if user.get("ou"):
            new["ou"] = p.dn(user["ou"])
        if user.get("upn"):
            new["upn"] = p.sip(user["upn"])
        for field in ("meeting_policy", "voice_policy"):
            if user.get(field):
                new[field] = p.text("policy", user[field])
        if user.get("line_uri"):
            new["line_uri"] = p.phone(user["line_uri"])
        users.append(new)
    _unique(users, "sip", lambda v, n: v.replace("@", "%d@" % n, 1))
    _unique(users, "sam", lambda v, n: v[:20 - len(str(n))] + str(n))
    s["users"] = users
    if scenario.get("waves"):
        s["waves"] = {p.text("wave", wave): [p.text("name", n) for n in members]
                      for wave, members in scenario["waves"].items()}
    if scenario.get("topology"):
        s["topology"] = _topology(scenario["topology"], p)
    if scenario.get("dns"):
        s["dns"] = dict(scenario["dns"], records=[_record(r, p) for r in scenario["dns"].get("records") or []])
    return s


def _record(record, p):
    new = dict(record, name=p.dns_name(record["name"]))
    if record.get("address"):
        new["address"] = p.ip(record["address"])
    if record.get("target"):
        new["target"] = p.domain(record["target"])
    return new


_TOPOLOGY_DOMAINS = ("fqdn", "sql", "access_edge", "webconf_edge", "av_edge", "next_hop", "pool")


def _domains(entry, p):
    return dict(entry, **{k: p.domain(entry[k]) for k in _TOPOLOGY_DOMAINS if isinstance(entry.get(k), str)})


def _topology(topology, p):
    out = dict(topology)
    if topology.get("central_site"):
        out["central_site"] = p.text("site", topology["central_site"])
    out["sip_domains"] = [p.domain(d) for d in topology.get("sip_domains") or []]
    pilot = _domains(topology["pilot_pool"], p)
    if pilot.get("file_share"):
        pilot["file_share"] = p.text("share", pilot["file_share"])
    if pilot.get("sql_instance"):
        pilot["sql_instance"] = p.text("instance", pilot["sql_instance"])
    out["pilot_pool"] = pilot
    for key in ("legacy_pools", "legacy_edges"):
        if key in topology:
            out[key] = [_domains(e, p) for e in topology[key]]
    if topology.get("lync_edge_pool"):
        out["lync_edge_pool"] = _domains(topology["lync_edge_pool"], p)
    if "conference_directories" in topology:
        out["conference_directories"] = [_domains(d, p) for d in topology["conference_directories"]]
    if "response_groups" in topology:
        out["response_groups"] = [dict(_domains(rg, p), name=p.text("rgs", rg["name"]), sip_address=p.sip(rg["sip_address"]),
                                       agents=[p.sip(a) for a in rg.get("agents") or []],
                                       **({"line_uri": p.phone(rg["line_uri"])} if rg.get("line_uri") else {}))
                                  for rg in topology["response_groups"]]
    if "dial_in_numbers" in topology:
        numbers = []
        for n in topology["dial_in_numbers"]:
            new = dict(_domains(n, p), sip_address=p.sip(n["sip_address"]), display_name=p.text("contact", n["display_name"]))
            if n.get("line_uri"):
                new["line_uri"] = p.phone(n["line_uri"])
            if n.get("display_number"):
                new["display_number"] = p.text("phone", n["display_number"])
            if n.get("regions"):
                new["regions"] = [p.text("location", r) for r in n["regions"]]
            numbers.append(new)
        out["dial_in_numbers"] = numbers
    return out


def _legacy(legacy, p):
    out = dict(legacy)
    out["pools"] = [dict(pool, fqdn=p.domain(pool["fqdn"]), frontends=[p.domain(f) for f in pool.get("frontends") or []],
                         **({"backend": p.domain(pool["backend"])} if pool.get("backend") else {}))
                    for pool in legacy.get("pools") or []]
    if legacy.get("edge"):
        out["edge"] = {k: p.domain(v) if isinstance(v, str) else v for k, v in legacy["edge"].items()}
    out["meeting_policies"] = [dict(m, name=p.text("policy", m["name"])) for m in legacy.get("meeting_policies") or []]
    out["location_profiles"] = [
        dict(m, name=p.text("location", m["name"]),
             **({"description": p.text("description", m["description"])} if m.get("description") else {}),
             **({"rules": [dict(r, name=p.text("rule", r["name"]),
                                pattern=p.pattern("rule-pattern", r["pattern"]) if r.get("pattern") else r.get("pattern"),
                                translation=p.pattern("rule-translation", r["translation"]) if r.get("translation")
                                else r.get("translation"))
                           for r in m["rules"]]} if "rules" in m else {}))
        for m in legacy.get("location_profiles") or []]
    for key in ("presence_policies", "voice_policies"):
        if key in legacy:
            out[key] = [dict(m, name=p.text("policy", m["name"])) for m in legacy[key]]
    out["voice_routes"] = [dict(r, name=p.text("route", r["name"]),
                                pattern=p.pattern("phone-pattern", r["pattern"]) if r.get("pattern") else r.get("pattern"),
                                pstn_usages=[p.text("usage", u) for u in r.get("pstn_usages") or []],
                                gateways=[p.domain(g) for g in r.get("gateways") or []])
                           for r in legacy.get("voice_routes") or []]
    return out
