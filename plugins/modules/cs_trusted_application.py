#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_trusted_application
short_description: A trusted application pool and its trusted applications (P9.3, P9.5, P9.8)
description:
  - Reads C(Get-CsTrustedApplicationPool), C(Get-CsTrustedApplication), C(Get-CsSite) and C(Get-CsPool), then makes
    only the changes that differ, with C(New-CsTrustedApplicationPool), C(Set-CsTrustedApplicationPool),
    C(New-CsTrustedApplication), C(Set-CsTrustedApplication), C(Remove-CsTrustedApplication) and
    C(Remove-CsTrustedApplicationPool), and then C(Enable-CsTopology) when I(enable_topology) is set.
  - The pool's next hop (I(registrar)) must be a Lync Server 2013 Registrar pool. After the merge the legacy OCS
    2007 R2 pool is listed as a choice, but the migration guide says choosing it is not supported (P9.8), so the
    module refuses a pool of BackCompatSite.
  - The site and the computer of an existing pool cannot change (C(Set-CsTrustedApplicationPool) has no such
    parameter); the module then fails and says to remove the pool and create it again. An application's
    transport (I(enable_tcp)) cannot change either (C(Set-CsTrustedApplication) sets only the port), so the
    module removes the application and creates it again.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  fqdn:
    description: FQDN of the trusted application pool (its Identity), e.g. the Exchange Client Access Server.
    type: str
    required: true
  state:
    description:
      - C(present) creates or corrects the pool and the listed applications.
      - C(absent) with I(applications) removes those applications only; without, removes the pool (its
        applications go with it).
    type: str
    choices: [present, absent]
    default: present
  registrar:
    description: The next hop, a Lync Server 2013 Registrar pool FQDN. Required to create the pool.
    type: str
  site:
    description:
      - The site of the pool, by name (C(Redmond)), identity (C(Site:Redmond)) or site ID (C(1)), resolved with
        C(Get-CsSite). Defaults to the registrar's site. Only used when the pool is created.
    type: str
  computer_fqdn:
    description: The pool's computer (ComputerFqdn) when the pool is created; defaults to I(fqdn).
    type: str
  throttle_as_server:
    description: ThrottleAsServer. Unset keeps the current value (Lync's default, true, for a new pool).
    type: bool
  treat_as_authenticated:
    description: TreatAsAuthenticated. Unset keeps the current value (Lync's default, true, for a new pool).
    type: bool
  requires_replication:
    description: RequiresReplication. Unset keeps the current value (Lync's default, true, for a new pool).
    type: bool
  applications:
    description: Trusted applications of the pool.
    type: list
    elements: dict
    default: []
    suboptions:
      application_id:
        description: The application ID (C(owa) or C(urn:application:owa)).
        type: str
        required: true
      port:
        description: The port the application listens on; unique within the pool. Required with state=present.
        type: int
      enable_tcp:
        description:
          - Use TCP instead of mutual TLS (EnableTcp), e.g. for a SIP/CSTA gateway over TCP.
          - C(New-CsTrustedApplication -EnableTcp) asks for confirmation unless C(-Force); the module passes
            C(-Force), having been told by this option that TCP is wanted.
        type: bool
        default: false
  purge_applications:
    description: With state=present, remove the pool's applications that I(applications) does not list.
    type: bool
    default: false
  enable_topology:
    description: Run C(Enable-CsTopology) after a change (the guide's last step of P9.3 and P9.5).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Only the Get- calls run; C(calls) lists the changes that would be made.
  diff_mode:
    support: full
    description: The pool and its applications before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: Exchange 2013 OWA IM integration, CAS not collocated with UM (P9.3)
  lync.migration.cs_trusted_application:
    fqdn: cas01.contoso.net
    registrar: pool02.contoso.net
    site: Redmond
    throttle_as_server: true
    treat_as_authenticated: true
    requires_replication: false
    applications:
      - {application_id: owa, port: 5199}

- name: Remote call control gateway over TCP (P9.5)
  lync.migration.cs_trusted_application:
    fqdn: rcc-gw01.contoso.net
    registrar: pool02.contoso.net
    applications:
      - {application_id: rcc, port: 5060, enable_tcp: true}
"""

RETURN = r"""
pool:
  description: The pool after the task (in check mode, as it is now), or null when it does not exist.
  returned: always
  type: dict
  contains:
    fqdn:
      description: Pool FQDN.
      type: str
    registrar:
      description: The next hop Registrar pool FQDN.
      type: str
    site:
      description: "The site identity (C(Site:Redmond))."
      type: str
    throttle_as_server:
      description: ThrottleAsServer.
      type: bool
    treat_as_authenticated:
      description: TreatAsAuthenticated.
      type: bool
    requires_replication:
      description: RequiresReplication.
      type: bool
applications:
  description: The pool's applications after the task (application_id, port, protocol, identity).
  returned: always
  type: list
  elements: dict
calls:
  description: The changing calls made (or, in check mode, that would be made), as C(cmdlet) and C(params).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule, as_bool

APP_PREFIX = "urn:application:"
# The pool's settings the module manages: (option, the cmdlets' parameter and property).
POOL_SETTINGS = (("throttle_as_server", "ThrottleAsServer"), ("treat_as_authenticated", "TreatAsAuthenticated"),
                 ("requires_replication", "RequiresReplication"))


def app_urn(application_id):
    text = str(application_id).strip()
    return text if text.lower().startswith(APP_PREFIX) else APP_PREFIX + text


def strip(value, prefix):
    text = str(value or "")
    return text[len(prefix):] if text.lower().startswith(prefix.lower()) else text


def pool_state(view):
    if view is None:
        return None
    return {
        "fqdn": view.get("PoolFqdn"),
        "registrar": strip(view.get("Registrar"), "Registrar:"),
        "site": view.get("SiteId") or view.get("Site"),
        "throttle_as_server": as_bool(view.get("ThrottleAsServer")),
        "treat_as_authenticated": as_bool(view.get("TreatAsAuthenticated")),
        "requires_replication": as_bool(view.get("RequiresReplication")),
    }


def app_state(obj):
    return {"application_id": obj.get("ApplicationId"), "port": int(obj.get("Port")),
            "protocol": obj.get("Protocol"), "identity": obj.get("Identity")}


def observed(pool_view, apps):
    """The pool and its applications as read, in the module's terms (the diff's before and after)."""
    return {"pool": pool_state(pool_view),
            "applications": sorted((app_state(a) for a in apps), key=lambda a: a["application_id"])}


class PlanError(Exception):
    """A request the module refuses before any change; ``field`` is the option at fault."""

    def __init__(self, field, message):
        super(PlanError, self).__init__("%s: %s" % (field, message))
        self.field = field


def resolve_site(sites, wanted):
    """The Get-CsSite object named by ``wanted`` (name, Site:name or SiteId)."""
    key = strip(wanted, "Site:").lower()
    for site in sites:
        if key in (strip(site.get("Identity"), "Site:").lower(), str(site.get("SiteId")).lower(),
                   str(site.get("DisplayName") or "").lower()):
            return site
    return None


def is_backcompat(site):
    return strip(site.get("Identity"), "Site:").lower() == "backcompatsite" or site.get("SiteType") == "BackCompatSite"


def lync_registrars(pools):
    """FQDNs of the Lync Server 2013 pools with a Registrar service (not in BackCompatSite)."""
    out = []
    for pool in pools:
        services = [str(s).lower() for s in (pool.get("Services") or [])]
        if "backcompatsite" in str(pool.get("Site") or "").lower():
            continue
        if any(s.startswith("registrar:") for s in services):
            out.append(str(pool.get("Identity") or pool.get("Fqdn")))
    return out


def plan(params, pool_view, apps, sites, pools):
    """The changing calls (a list of Call) for the wanted state; raises PlanError for a request it refuses.

    ``pool_view``: the Get-CsTrustedApplicationPool object of this pool or None; ``apps``: its
    Get-CsTrustedApplication objects; ``sites``: Get-CsSite; ``pools``: Get-CsPool.
    """
    fqdn = params["fqdn"]
    wanted_apps = params.get("applications") or []
    calls = []
    if params["state"] == "absent":
        if wanted_apps:
            have = dict((a["ApplicationId"].lower(), a) for a in apps)
            for index, app in enumerate(wanted_apps):
                found = have.get(app_urn(app["application_id"]).lower())
                if found is not None:
                    calls.append(Call("Remove-CsTrustedApplication", {"Identity": found["Identity"]}))
        elif pool_view is not None:
            calls.append(Call("Remove-CsTrustedApplicationPool", {"Identity": "TrustedApplicationPool:" + fqdn}))
        return calls

    registrar = params.get("registrar")
    if registrar:
        registrars = lync_registrars(pools)
        if registrar.lower() not in [r.lower() for r in registrars]:
            legacy = [p for p in pools if str(p.get("Identity")).lower() == registrar.lower()]
            why = ("is an OCS 2007 R2 pool (BackCompatSite): the guide does not support a legacy next hop (P9.8)"
                   if legacy and "backcompatsite" in str(legacy[0].get("Site")).lower()
                   else "is not a Lync Server 2013 Registrar pool of the topology")
            raise PlanError("registrar", "%s %s; name one of: %s" % (registrar, why, ", ".join(registrars) or "(none)"))
    seen_ids, seen_ports = set(), {}
    for index, app in enumerate(wanted_apps):
        if app.get("port") is None:
            raise PlanError("applications[%d].port" % index, "required for application %s with state=present"
                            % app["application_id"])
        urn = app_urn(app["application_id"]).lower()
        if urn in seen_ids:
            raise PlanError("applications[%d].application_id" % index, "%s is listed twice" % app["application_id"])
        seen_ids.add(urn)
        if app["port"] in seen_ports:
            raise PlanError("applications[%d].port" % index, "port %d is also given to %s; each application of a pool "
                            "needs its own port" % (app["port"], seen_ports[app["port"]]))
        seen_ports[app["port"]] = app["application_id"]

    if pool_view is None:
        if not registrar:
            raise PlanError("registrar", "required to create the trusted application pool %s (the Lync Server 2013 "
                            "Registrar pool that is its next hop)" % fqdn)
        if params.get("site"):
            site = resolve_site(sites, params["site"])
            if site is None:
                raise PlanError("site", "no site %s in the topology; sites: %s" % (
                    params["site"], ", ".join(strip(s.get("Identity"), "Site:") for s in sites)))
        else:
            reg = [p for p in pools if str(p.get("Identity")).lower() == registrar.lower()][0]
            site = resolve_site(sites, reg.get("Site"))
        if site is None or is_backcompat(site):
            raise PlanError("site", "a trusted application pool cannot be created in BackCompatSite; name a Lync "
                            "Server 2013 site")
        new = {"Identity": fqdn, "Registrar": registrar, "Site": str(site.get("SiteId")),
               "ComputerFqdn": params.get("computer_fqdn") or fqdn}
        for option, name in POOL_SETTINGS:
            if params.get(option) is not None:
                new[name] = params[option]
        calls.append(Call("New-CsTrustedApplicationPool", new))
    else:
        now = pool_state(pool_view)
        if params.get("site"):
            site = resolve_site(sites, params["site"])
            if site is None or strip(site.get("Identity"), "Site:").lower() != strip(now["site"], "Site:").lower():
                raise PlanError("site", "the pool %s is in %s and Set-CsTrustedApplicationPool cannot move it: remove "
                                "the pool (state=absent) and create it again in %s" % (fqdn, now["site"], params["site"]))
        change = {}
        if registrar and registrar.lower() != (now["registrar"] or "").lower():
            change["Registrar"] = registrar
        for option, name in POOL_SETTINGS:
            if params.get(option) is not None and params[option] != now[option]:
                change[name] = params[option]
        if change:
            change["Identity"] = "TrustedApplicationPool:" + fqdn
            calls.append(Call("Set-CsTrustedApplicationPool", change))

    have = dict((a["ApplicationId"].lower(), a) for a in apps)
    removes, sets, news = [], [], []
    kept_ports = {}
    wanted_urns = [app_urn(a["application_id"]).lower() for a in wanted_apps]
    for urn, obj in have.items():
        if urn not in wanted_urns:
            if params.get("purge_applications"):
                removes.append(Call("Remove-CsTrustedApplication", {"Identity": obj["Identity"]}))
            else:
                kept_ports[int(obj["Port"])] = obj["Identity"]
    for index, app in enumerate(wanted_apps):
        if app["port"] in kept_ports:
            raise PlanError("applications[%d].port" % index, "port %d is already used by %s on %s; choose a free port "
                            "or set purge_applications" % (app["port"], kept_ports[app["port"]], fqdn))
        obj = have.get(app_urn(app["application_id"]).lower())
        tcp = bool(app.get("enable_tcp"))
        new = {"ApplicationId": app["application_id"], "TrustedApplicationPoolFqdn": fqdn, "Port": app["port"]}
        if tcp:
            # Without -Force, -EnableTcp asks for confirmation (office-docs-powershell New-CsTrustedApplication.md),
            # which a WinRM command cannot answer: -Force is the deliberate answer.
            new["EnableTcp"] = True
            new["Force"] = True
        if obj is None:
            news.append(Call("New-CsTrustedApplication", new))
        elif (str(obj.get("Protocol") or "").lower() == "tcp") != tcp:
            removes.append(Call("Remove-CsTrustedApplication", {"Identity": obj["Identity"]}))
            news.append(Call("New-CsTrustedApplication", new))
        elif int(obj["Port"]) != app["port"]:
            sets.append(Call("Set-CsTrustedApplication", {"Identity": obj["Identity"], "Port": app["port"]}))
    # Removals first and new applications last, so ports that move between applications are free when taken.
    return calls + removes + sets + news


def predict(params, before, sites):
    """The state ``plan`` leads to, for check mode's diff."""
    if params["state"] == "absent":
        if not params.get("applications"):
            return {"pool": None, "applications": []}
        gone = set(app_urn(a["application_id"]).lower() for a in params["applications"])
        return {"pool": before["pool"], "applications": [a for a in before["applications"]
                                                         if a["application_id"].lower() not in gone]}
    pool = dict(before["pool"] or {"fqdn": params["fqdn"], "site": None, "throttle_as_server": True,
                                   "treat_as_authenticated": True, "requires_replication": True})
    if before["pool"] is None:
        site = resolve_site(sites, params["site"]) if params.get("site") else None
        pool["site"] = site.get("Identity") if site else None
    if params.get("registrar"):
        pool["registrar"] = params["registrar"]
    for option, _name in POOL_SETTINGS:
        if params.get(option) is not None:
            pool[option] = params[option]
    wanted = dict((app_urn(a["application_id"]).lower(), a) for a in params.get("applications") or [])
    apps = [a for a in before["applications"]
            if a["application_id"].lower() not in wanted and not params.get("purge_applications")]
    for urn, a in wanted.items():
        apps.append({"application_id": app_urn(a["application_id"]), "port": a["port"],
                     "protocol": "Tcp" if a.get("enable_tcp") else "Mtls",
                     "identity": "%s/%s" % (params["fqdn"], app_urn(a["application_id"]))})
    return {"pool": pool, "applications": sorted(apps, key=lambda a: a["application_id"])}


def read(module, fqdn):
    results = module.run_calls([
        Call("Get-CsTrustedApplicationPool"),
        Call("Get-CsTrustedApplication"),
        Call("Get-CsSite", select=["Identity", "SiteId", "DisplayName", "SiteType"]),
        Call("Get-CsPool", select=["Identity", "Site", "Services"]),
    ])
    for result in results:
        if not result.ok:
            module.fail_json_from_error(result.error, cmdlet=result.call.cmdlet)
    pool_view = next((p for p in results[0].objects if str(p.get("PoolFqdn")).lower() == fqdn.lower()), None)
    apps = [a for a in results[1].objects if str(a.get("TrustedApplicationPoolFqdn")).lower() == fqdn.lower()]
    return pool_view, apps, results[2].objects, results[3].objects


def main():
    module = LyncModule(
        argument_spec=dict(
            fqdn=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            registrar=dict(type="str"),
            site=dict(type="str"),
            computer_fqdn=dict(type="str"),
            throttle_as_server=dict(type="bool"),
            treat_as_authenticated=dict(type="bool"),
            requires_replication=dict(type="bool"),
            applications=dict(type="list", elements="dict", default=[], options=dict(
                application_id=dict(type="str", required=True),
                port=dict(type="int"),
                enable_tcp=dict(type="bool", default=False),
            )),
            purge_applications=dict(type="bool", default=False),
            enable_topology=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    fqdn = module.params["fqdn"]
    pool_view, apps, sites, pools = read(module, fqdn)
    before = observed(pool_view, apps)
    try:
        calls = plan(module.params, pool_view, apps, sites, pools)
    except PlanError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    if calls and module.params["enable_topology"]:
        calls.append(Call("Enable-CsTopology"))
    planned = [{"cmdlet": c.cmdlet, "params": c.params} for c in calls]
    if not calls or module.check_mode:
        after = predict(module.params, before, sites) if calls else before
        module.exit_json(changed=bool(calls), calls=planned, pool=before["pool"], applications=before["applications"],
                         diff={"before": before, "after": after})
    # One call at a time: a failed step must not be followed by the next (e.g. an application on a pool that
    # New-CsTrustedApplicationPool did not create).
    for call in calls:
        result = module.run_calls([call])[0]
        if not result.ok:
            module.fail_json_from_error(result.error, cmdlet=call.cmdlet, calls=planned,
                                        msg="%s failed for %s: %s" % (call.cmdlet, fqdn, result.error.message))
    pool_view, apps, _sites, _pools = read(module, fqdn)
    after = observed(pool_view, apps)
    module.exit_json(changed=True, calls=planned, pool=after["pool"], applications=after["applications"],
                     diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
