# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading users and pools: the calls, and turning Lync objects into the modules' return values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from .envelope import Call
from .pieces import opath_pieces, out_of_memory, read_in_pieces
from .error_ids import error_id, exception_is
from .identity import same_fqdn
from .module import as_bool

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
        "enabled": as_bool(obj.get("Enabled")),
        "legacy": bool(home and home["legacy"]),
    }
    if identity is not None:
        facts = dict([("identity", identity)] + list(facts.items()))
    return facts


def user_lookup_call(identity, key=None):
    """Get-CsUser -Identity for ``identity``, looked up by ``key`` when given (the SIP address it already
    resolved to); the call's id is ``identity``, whichever name is sent."""
    return Call("Get-CsUser", {"Identity": key or identity}, select=USER_PROPERTIES, id=identity)


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
    # By identifier first (the message is localised on a French or German server): Get-CsUser's ambiguity error
    # (AmbiguousIdentity, AmbiguousIdentityException) and its not-found error ("Identity" with ManagementException,
    # or the category ObjectNotFound). No Microsoft page prints these identifiers (the lab's are assumed), so the
    # English wording stays as the last test, for an English server whose identifiers differ (docs/localisation.md).
    if error_id(error) == "AmbiguousIdentity" or exception_is(error, "AmbiguousIdentityException"):
        return ("ambiguous", error.message)
    if error.category == "ObjectNotFound" or (error_id(error) == "Identity" and exception_is(error, "ManagementException")):
        return ("not_found", error.message)
    text = (error.message or "").lower()
    if "ambiguous" in text or "more than one" in text or "multiple" in text:
        return ("ambiguous", error.message)
    if "not found" in text or "cannot be found" in text or "couldn't find" in text or "could not find" in text:
        return ("not_found", error.message)
    return ("error", error)


def sort_lookups(identities, results, found, not_found, ambiguous, errors):
    """File each identity's Get-CsUser -Identity result under found (identity -> Lync object), not_found,
    ambiguous ({identity, message}) or errors ((identity, CmdletError))."""
    for identity, result in zip(identities, results):
        kind, detail = classify_lookup(result)
        if kind == "found":
            found[identity] = detail
        elif kind == "not_found":
            not_found.append(identity)
        elif kind == "ambiguous":
            ambiguous.append({"identity": identity, "message": detail})
        else:
            errors.append((identity, detail))


def lookup_problems(malformed, not_found, ambiguous):
    """One {identity, reason (malformed | not_found | ambiguous), message} per identity that found no single user,
    in that order; the message names the identity as JSON (its spaces show) and what to do."""
    out = [{"identity": m["identity"], "reason": "malformed",
            "message": "%s is malformed: %s" % (json.dumps(m["identity"]), m["reason"])} for m in malformed]
    out += [{"identity": i, "reason": "not_found",
             "message": "%s was not found by Get-CsUser; check the spelling and that the account is enabled for "
                        "OCS/Lync" % json.dumps(i)} for i in not_found]
    out += [{"identity": a["identity"], "reason": "ambiguous",
             "message": "%s matches more than one user (%s); name the user by SIP address instead"
                        % (json.dumps(a["identity"]), a["message"])} for a in ambiguous]
    return out


# Reads are fast next to PowerShell's start, so read batches are cut smaller than move batches.
READ_MIN_BATCH = 10
# Shells reading identities when the caller has no better number (reads take no pool move slot).
READ_PARALLELISM = 16
# From this many identities on, SIP addresses are matched against one Get-CsUser of every user: one paged
# directory query instead of thousands of lookups; other identity forms are still looked up one by one, so
# Lync's own resolution decides them. Below it, reading the whole directory costs more than the lookups on a
# real server, whose bulk read grows with the directory (docs/performance.md).
BULK_READ_THRESHOLD = 5000


def read_directory(module, params, select, first=(), answered=None):
    """Get-CsUser ``params`` (no -Identity), whatever the host's shell memory: (results of ``first``, objects).
    One call; in SIP-address pieces when its answer does not fit the host's shell (pieces.py)."""

    def make_call(piece_filter):
        return Call("Get-CsUser", dict(params, Filter=piece_filter), select=select)

    return read_in_pieces(module, Call("Get-CsUser", dict(params), select=select),
                          opath_pieces(params.get("Filter"), make_call), "", "Get-CsUser", first=first,
                          answered=answered)


def read_users_queued(module, identities, batch_size=100, parallelism=READ_PARALLELISM,
                      bulk_threshold=BULK_READ_THRESHOLD, bulk_properties=None, pools_result=None, keys=None):
    """Each identity's user: (found, not_found, ambiguous, errors) as sort_lookups files them.

    ``keys`` maps an identity to the SIP address it already resolved to (a wave's display name, say): the user
    is read by that address, and found, not_found... still name the identity.
    From ``bulk_threshold`` identities on, SIP addresses are matched against one bulk Get-CsUser (asking for
    ``bulk_properties`` only); the rest are looked up one by one (user_lookup_call) in
    batches cut from one queue over ``parallelism`` shells. With ``pools_result`` (a list), Get-CsPool runs in
    the first request (one PowerShell start fewer) and its CallResult is appended to the list."""
    found, not_found, ambiguous, errors = {}, [], [], []
    keys = keys or {}
    rest = list(identities)
    first = [pools_call()] if pools_result is not None else []
    if len(identities) >= bulk_threshold:
        wanted = set(k.lower() for k in (keys.get(i, i) for i in identities) if k.lower().startswith("sip:"))
        outputs = module.run_calls(first + [Call("Get-CsUser", {}, select=bulk_properties or USER_PROPERTIES)])
        if first:
            pools_result.append(outputs[0])
            first = []
        result = outputs[-1]
        del outputs
        objects = result.objects if result.ok else None
        if out_of_memory(result):
            # The host's shell cannot hold the whole directory in one answer: the same read in pieces.
            objects = read_directory(module, {}, bulk_properties or USER_PROPERTIES, answered=result)[1]
        if objects is not None:
            by_sip = {}
            for obj in objects:
                sip = str(obj.get("SipAddress") or "").lower()
                if sip in wanted:
                    by_sip[sip] = obj
            del result, objects   # every user of the directory: free it before going on
            rest = []
            for identity in identities:
                obj = by_sip.get(keys.get(identity, identity).lower())
                if obj is not None:
                    found[identity] = obj
                else:
                    rest.append(identity)
        # else: the bulk read failed (e.g. busy); the lookups below read everyone one by one
    calls = first + [user_lookup_call(identity, keys.get(identity)) for identity in rest]
    results = module.client.run_queue(calls, batch_size=batch_size, parallelism=parallelism,
                                      min_batch=READ_MIN_BATCH) if calls else []
    if first:
        pools_result.append(results[0])
        results = results[1:]
    sort_lookups(rest, results, found, not_found, ambiguous, errors)
    return found, not_found, ambiguous, errors


def pools_from_result(module, result):
    """The pools of a Get-CsPool CallResult; fails the task with the server's error when it failed."""
    if not result.ok:
        module.fail_json_from_error(result.error, cmdlet="Get-CsPool")
    return [pool_facts(o) for o in result.objects]
