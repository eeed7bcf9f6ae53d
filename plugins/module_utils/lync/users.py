# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading users and pools: the calls, and turning Lync objects into the modules' return values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .envelope import Call
from .identity import same_fqdn

USER_PROPERTIES = ["Identity", "SipAddress", "DisplayName", "SamAccountName", "UserPrincipalName",
                   "DistinguishedName", "RegistrarPool", "Enabled"]
POOL_PROPERTIES = ["Identity", "Fqdn", "Site", "Services", "Computers"]

# After Merge-CsLegacyTopology the OCS 2007 R2 pools appear in Lync's topology in the BackCompatSite.
LEGACY_SITE_MARKER = "backcompatsite"


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _as_bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def pool_facts(obj):
    services = _as_list(obj.get("Services"))
    site = obj.get("Site")
    fqdn = obj.get("Fqdn") or obj.get("Identity")
    return {
        "identity": obj.get("Identity"),
        "fqdn": fqdn,
        "site": site,
        "services": services,
        "computers": _as_list(obj.get("Computers")),
        # A pool is a Registrar pool when it runs the Registrar service ("Registrar:<fqdn>").
        "registrar": any(s.lower().startswith("registrar:") for s in services),
        "legacy": LEGACY_SITE_MARKER in str(site or "").lower(),
    }


def pools_call(identity=None):
    params = {"Identity": identity} if identity else {}
    return Call("Get-CsPool", params, select=POOL_PROPERTIES)


def find_pool(pools, name):
    for pool in pools:
        if same_fqdn(pool["fqdn"], name) or same_fqdn(pool["identity"], name):
            return pool
    return None


def user_facts(obj, pools, identity=None):
    pool = obj.get("RegistrarPool")
    pool = str(pool) if pool else None
    home = find_pool(pools, pool) if pool else None
    facts = {
        "sip_address": obj.get("SipAddress"),
        "display_name": obj.get("DisplayName"),
        "sam_account_name": obj.get("SamAccountName"),
        "user_principal_name": obj.get("UserPrincipalName"),
        "distinguished_name": obj.get("DistinguishedName") or obj.get("Identity"),
        "registrar_pool": pool,
        "enabled": _as_bool(obj.get("Enabled")),
        "legacy": bool(home and home["legacy"]),
    }
    if identity is not None:
        facts = dict([("identity", identity)] + list(facts.items()))
    return facts


def user_lookup_call(identity):
    return Call("Get-CsUser", {"Identity": identity}, select=USER_PROPERTIES)


def classify_lookup(result):
    """('found', obj) | ('not_found', message) | ('ambiguous', message) | ('error', CmdletError)."""
    if result.ok:
        if not result.objects:
            return ("not_found", "no user matches this identity")
        if len(result.objects) > 1:
            names = ", ".join(str(o.get("SipAddress") or o.get("Identity")) for o in result.objects[:5])
            return ("ambiguous", "%d users match this identity: %s" % (len(result.objects), names))
        return ("found", result.objects[0])
    error = result.error
    text = (error.message or "").lower()
    if "ambiguous" in text or "more than one" in text or "multiple" in text:
        return ("ambiguous", error.message)
    if error.category == "ObjectNotFound" or "not found" in text or "cannot be found" in text \
            or "couldn't find" in text or "could not find" in text:
        return ("not_found", error.message)
    return ("error", error)


def chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def lookup_users(module, identities, batch_size=100, parallelism=1):
    """Get-CsUser -Identity for each identity, batched. Returns (found, not_found, ambiguous, errors) where
    found maps identity -> Lync object, ambiguous is [{identity, message}], errors [(identity, CmdletError)]."""
    found, not_found, ambiguous, errors = {}, [], [], []
    if not identities:
        return found, not_found, ambiguous, errors
    batches = [[user_lookup_call(i) for i in chunk] for chunk in chunks(identities, batch_size)]
    outputs = module.run_batches(batches, parallelism=parallelism)
    for identity, result in zip(identities, [r for batch in outputs for r in batch]):
        kind, detail = classify_lookup(result)
        if kind == "found":
            found[identity] = detail
        elif kind == "not_found":
            not_found.append(identity)
        elif kind == "ambiguous":
            ambiguous.append({"identity": identity, "message": detail})
        else:
            errors.append((identity, detail))
    return found, not_found, ambiguous, errors


def read_pools(module):
    result = module.run_calls([pools_call()])[0]
    if not result.ok:
        module.fail_json_from_error(result.error, cmdlet="Get-CsPool")
    return [pool_facts(o) for o in result.objects]
