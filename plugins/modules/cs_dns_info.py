#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cs_dns_info
short_description: Resolve the A and SRV records a migration step depends on, against a given DNS server
description:
  - Queries a DNS server directly (dnspython, from the controller; no WinRM), for example the pilot pool's A
    record (migration guide P2.2, checked before Phase 3) or C(_sipinternaltls._tcp.<SIP domain>) (P10.2).
  - Asks the internal DNS server you name, not the controller's resolver, because the names are internal.
  - A name that does not exist, or has no record of the asked type, is C(found=false), not a failure; an
    unreachable server fails the task.
  - In the C(lync.migration.lync) action group so C(module_defaults) reach it; the connection options are
    accepted and ignored.
version_added: 0.1.0
author:
  - lync.migration maintainers (@lync-migration)
extends_documentation_fragment:
  - lync.migration.connection
requirements:
  - dnspython >= 2.0 on the controller
options:
  queries:
    description: The records to look up.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The fully qualified name, such as C(pool02.contoso.net).
        type: str
        required: true
      type:
        description: The record type.
        type: str
        choices: [A, SRV]
        default: A
  resolver:
    description: IP address of the DNS server to ask (an internal DNS server of the AD domain).
    type: str
    required: true
  resolver_port:
    description: Its port.
    type: int
    default: 53
  tcp:
    description: Query over TCP instead of UDP.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for an answer to each query.
    type: float
    default: 5
attributes:
  check_mode:
    support: full
    description: Read-only.
  diff_mode:
    support: none
    description: Reads only; there is no state to compare.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Does the pilot pool's A record resolve (P2.2)?
  lync.migration.cs_dns_info:
    resolver: 192.168.10.5
    queries:
      - {name: pool02.contoso.net, type: A}
      - {name: _sipinternaltls._tcp.contoso.net, type: SRV}
  register: dns_check
  failed_when: not dns_check.records[0].found
"""

RETURN = r"""
records:
  description: One entry per query, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name asked.
      type: str
      returned: always
    type:
      description: A or SRV.
      type: str
      returned: always
    found:
      description: The server returned at least one record of that type.
      type: bool
      returned: always
    rcode:
      description: The response code, such as C(NOERROR), C(NXDOMAIN) or C(REFUSED).
      type: str
      returned: always
    authoritative:
      description: The answer came from a server authoritative for the zone (AA flag).
      type: bool
      returned: always
    addresses:
      description: The A records' addresses.
      type: list
      elements: str
      returned: always
    targets:
      description: The SRV records, as C({target, port, priority, weight}).
      type: list
      elements: dict
      returned: always
missing:
  description: The names (as C(TYPE name)) with no record of the asked type.
  returned: always
  type: list
  elements: str
"""

import ipaddress
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.lync.migration.plugins.module_utils.lync.module import LyncModule

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype
except ImportError:
    DNSPYTHON_ERROR = traceback.format_exc()
else:
    DNSPYTHON_ERROR = None


def query_one(module, name, rtype):
    params = module.params
    request = dns.message.make_query(name, rtype)
    ask = dns.query.tcp if params["tcp"] else dns.query.udp
    try:
        response = ask(request, params["resolver"], port=params["resolver_port"], timeout=params["timeout"])
        if not params["tcp"] and response.flags & dns.flags.TC:
            response = dns.query.tcp(request, params["resolver"], port=params["resolver_port"], timeout=params["timeout"])
    except (dns.exception.DNSException, OSError) as exc:
        module.fail_json(msg="DNS server %s port %s did not answer the %s query for %s: %s"
                             % (params["resolver"], params["resolver_port"], rtype, name, exc))
    wanted = dns.rdatatype.from_text(rtype)
    addresses, targets = [], []
    for rrset in response.answer:
        if rrset.rdtype != wanted:
            continue
        for rdata in rrset:
            if rtype == "A":
                addresses.append(rdata.address)
            else:
                targets.append(dict(target=rdata.target.to_text(omit_final_dot=True), port=rdata.port,
                                    priority=rdata.priority, weight=rdata.weight))
    return dict(name=name, type=rtype, found=bool(addresses or targets), rcode=dns.rcode.to_text(response.rcode()),
                authoritative=bool(response.flags & dns.flags.AA), addresses=addresses, targets=targets)


def dns_info(module):
    if DNSPYTHON_ERROR:
        module.fail_json(msg=missing_required_lib("dnspython"), exception=DNSPYTHON_ERROR)
    try:
        ipaddress.ip_address(module.params["resolver"])
    except ValueError:
        module.fail_json(msg="option resolver: %r is not an IP address; give the DNS server's address, "
                             "such as 192.168.10.5" % (module.params["resolver"],))
    records = [query_one(module, q["name"].rstrip("."), q["type"]) for q in module.params["queries"]]
    missing = ["%s %s" % (r["type"], r["name"]) for r in records if not r["found"]]
    return dict(changed=False, records=records, missing=missing)


def main():
    module = LyncModule(
        argument_spec=dict(
            queries=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                type=dict(type="str", choices=["A", "SRV"], default="A"),
            )),
            resolver=dict(type="str", required=True),
            resolver_port=dict(type="int", default=53),
            tcp=dict(type="bool", default=False),
            timeout=dict(type="float", default=5),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**dns_info(module))


if __name__ == "__main__":
    main()
