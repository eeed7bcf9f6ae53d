#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_static_route
short_description: A static SIP route in a static routing configuration (P9.5 remote call control)
description:
  - Reads the routes of C(Get-CsStaticRoutingConfiguration) (its C(Route) property, expanded) and finds the route
    by I(match_uri).
  - A missing route is created the way Microsoft documents it, C($r = New-CsStaticRoute ...;
    Set-CsStaticRoutingConfiguration -Route @{Add=$r}); the in-memory route travels from one call to the next as
    a named result of the envelope (docs/envelope.md), never as PowerShell text.
  - A route that differs is swapped in one call, C(Set-CsStaticRoutingConfiguration -Route @{Remove=$old;
    Add=$new}), with C($old) rebuilt by C(New-CsStaticRoute) from the route as read; PowerShell applies the
    Remove before the Add, and a failed call changes nothing, so the URI is never left without a route.
  - TLS routes use the server's default certificate (C(-UseDefaultCertificate $true)), as the guide's RCC
    example does. A route found with a named certificate (TLSCertIssuer) is left alone and the task fails, since
    the route this module rebuilds for C(@{Remove=...}) would not equal it.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
options:
  match_uri:
    description: The route's MatchUri (a domain or wildcard such as C(*.contoso.net)); identifies the route.
    type: str
    required: true
  state:
    description: Whether the route exists.
    type: str
    choices: [present, absent]
    default: present
  identity:
    description: The static routing configuration (C(Global), or C(service:Registrar:<pool FQDN>)).
    type: str
    default: Global
  destination:
    description: The next hop, the gateway's FQDN (TLS) or IP address or FQDN (TCP). Required with state=present.
    type: str
  destination_port:
    description:
      - The gateway's SIP listening port. Required with state=present.
      - Not C(port), which is the WinRM connection's port.
    type: int
  protocol:
    description:
      - C(tls) (C(-TLSRoute)) or C(tcp) (C(-TCPRoute)).
      - Not C(transport), which is the WinRM connection's authentication.
    type: str
    choices: [tls, tcp]
    default: tls
  enabled:
    description: Enabled.
    type: bool
    default: true
  match_only_phone_uri:
    description: MatchOnlyPhoneUri.
    type: bool
    default: false
  replace_host_in_request_uri:
    description: ReplaceHostInRequestUri.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Only the Get- call runs; C(calls) lists the calls that would be made.
  diff_mode:
    support: full
    description: The route before and after.
  platform:
    support: full
    platforms: windows
    description: Runs on the controller, reaches the Lync server over WinRM.
"""

EXAMPLES = r"""
- name: Route the SIP/CSTA gateway's domain (P9.5)
  lync.migration.cs_static_route:
    match_uri: pbx.contoso.net
    destination: rcc-gw01.contoso.net
    destination_port: 5065
    protocol: tls
"""

RETURN = r"""
route:
  description: The route after the task (in check mode, as it is now), or null when there is none.
  returned: always
  type: dict
  contains:
    match_uri: {description: MatchUri., type: str}
    destination: {description: The next hop., type: str}
    destination_port: {description: The next hop's port., type: int}
    protocol: {description: tls or tcp., type: str}
    enabled: {description: Enabled., type: bool}
    match_only_phone_uri: {description: MatchOnlyPhoneUri., type: bool}
    replace_host_in_request_uri: {description: ReplaceHostInRequestUri., type: bool}
calls:
  description: The changing calls made (or, in check mode, that would be made), as C(cmdlet) and C(params).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call, result_of
from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule, as_bool


def route_state(obj):
    """A route as read (Get-CsStaticRoutingConfiguration, Route expanded) in the module's terms."""
    transport = obj.get("Transport") if isinstance(obj.get("Transport"), dict) else {}
    kind = str(transport.get("TransportType") or "").lower()
    return {
        "match_uri": obj.get("MatchUri"),
        "destination": transport.get("Fqdn"),
        "destination_port": int(transport["Port"]) if transport.get("Port") is not None else None,
        "protocol": kind or None,
        "enabled": as_bool(obj.get("Enabled")),
        "match_only_phone_uri": as_bool(obj.get("MatchOnlyPhoneUri")),
        "replace_host_in_request_uri": as_bool(obj.get("ReplaceHostInRequestUri")),
    }


def new_route_params(state):
    params = {"TCPRoute" if state["protocol"] == "tcp" else "TLSRoute": True, "Destination": state["destination"],
              "Port": state["destination_port"], "MatchUri": state["match_uri"], "Enabled": state["enabled"],
              "MatchOnlyPhoneUri": state["match_only_phone_uri"],
              "ReplaceHostInRequestUri": state["replace_host_in_request_uri"]}
    if state["protocol"] != "tcp":
        params["UseDefaultCertificate"] = True
    return params


def plan(params, current):
    """The calls (one request, so the named results reach the Set- call) that make the route as wanted: the
    documented New-CsStaticRoute then Set-CsStaticRoutingConfiguration -Route @{...}. A changed route is swapped
    with @{Remove=$old; Add=$new} in one call, so a failure never leaves the URI without a route."""
    identity = params["identity"]
    wanted = None if params["state"] == "absent" else wanted_state(params)
    if current == wanted:
        return []
    calls, modifier = [], {}
    if current is not None:
        calls.append(Call("New-CsStaticRoute", new_route_params(current), name="old"))
        modifier["Remove"] = result_of("old")
    if wanted is not None:
        calls.append(Call("New-CsStaticRoute", new_route_params(wanted), name="new"))
        modifier["Add"] = result_of("new")
    calls.append(Call("Set-CsStaticRoutingConfiguration", {"Identity": identity, "Route": modifier}))
    return calls


def wanted_state(params):
    return {"match_uri": params["match_uri"], "destination": params["destination"],
            "destination_port": params["destination_port"], "protocol": params["protocol"], "enabled": params["enabled"],
            "match_only_phone_uri": params["match_only_phone_uri"],
            "replace_host_in_request_uri": params["replace_host_in_request_uri"]}


def certificate_issuer(obj):
    """The TLSCertIssuer of a route as read (None for the default certificate or TCP)."""
    return obj.get("TLSCertIssuer") or None


def read(module):
    result = module.run_calls([Call("Get-CsStaticRoutingConfiguration", {"Identity": module.params["identity"]},
                                    expand="Route")])[0]
    if not result.ok:
        module.fail_json_from_error(result.error, cmdlet="Get-CsStaticRoutingConfiguration")
    wanted = module.params["match_uri"].lower()
    found = [r for r in result.objects if isinstance(r, dict) and str(r.get("MatchUri")).lower() == wanted]
    if not found:
        return None, None
    return route_state(found[0]), certificate_issuer(found[0])


def main():
    module = LyncModule(
        argument_spec=dict(
            match_uri=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            identity=dict(type="str", default="Global"),
            destination=dict(type="str"),
            destination_port=dict(type="int"),
            protocol=dict(type="str", choices=["tls", "tcp"], default="tls"),
            enabled=dict(type="bool", default=True),
            match_only_phone_uri=dict(type="bool", default=False),
            replace_host_in_request_uri=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ("destination", "destination_port"))],
        supports_check_mode=True,
    )
    port = module.params["destination_port"]
    if port is not None and not 1 <= port <= 65535:
        module.fail_json(msg="destination_port: %d is not a port number (1-65535)" % port, field="destination_port")
    before, issuer = read(module)
    calls = plan(module.params, before)
    if calls and before is not None and issuer:
        # Removing a route takes an equal route object; this module rebuilds it with the default certificate,
        # so a route bound to a named certificate would not match.
        module.fail_json(msg="match_uri: the route %s uses the certificate of %s (TLSCertIssuer); this module only "
                         "changes routes that use the default certificate: change or remove it with "
                         "Set-CsStaticRoutingConfiguration by hand" % (module.params["match_uri"], issuer),
                         field="match_uri", route=before)
    planned = [{"cmdlet": c.cmdlet, "params": c.params} for c in calls]
    predicted = None if module.params["state"] == "absent" else wanted_state(module.params)
    if not calls or module.check_mode:
        module.exit_json(changed=bool(calls), route=before, calls=planned,
                         diff={"before": before or {}, "after": (predicted or {}) if calls else (before or {})})
    for result in module.run_calls(calls):
        if not result.ok:
            module.fail_json_from_error(result.error, cmdlet=result.call.cmdlet, calls=planned,
                                        msg="%s failed for the route %s: %s" % (
                                            result.call.cmdlet, module.params["match_uri"], result.error.message))
    after, _issuer = read(module)
    module.exit_json(changed=True, route=after, calls=planned, diff={"before": before or {}, "after": after or {}})


if __name__ == "__main__":
    main()
