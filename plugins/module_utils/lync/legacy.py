# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCS 2007 R2 as its WMI shows it: which pool homes a user (MSFT_SIPESUserSetting.HomeServerDN against
MSFT_SIPPoolSetting.PoolDN). Phase 1's inventory, Phase 2's users per pool and the capture all ask this one rule.

A user's HomeServerDN (msRTCSIP-PrimaryHomeServer) names the pool's service control point, an msRTCSIP-PoolService
object (Lync/LyncServer/lync-server-2013-schema-classes-and-descriptions.md, MicrosoftDocs/OfficeDocs-
SkypeForBusiness), which is ``CN=LC Services`` under ``CN=Microsoft`` under the pool's own object (the HomeServer
value Skype/SfbServer/manage/trusted-applications.md shows: ``CN=Lc Services,CN=Microsoft,CN=co1:2,CN=Pools,...``).
The pool is the one whose PoolDN is the HomeServerDN less those two RDNs, compared without regard to case, as AD
compares DNs. Commas escaped inside an RDN (``CN=Myer\\, Ken``) do not split it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_RDN_SPLIT = re.compile(r"(?<!\\),")


def split_dn(dn):
    """('CN=Ken Myer\\ ', 'OU=Users,DC=contoso,DC=net'): the first RDN and the rest (escaped commas kept)."""
    parts = _RDN_SPLIT.split(dn or "", 1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


# The pool's service control point under the pool's object, as HomeServerDN names it.
POOL_SERVICE_RDNS = ("cn=lc services", "cn=microsoft")


def home_pool_dn(home_server_dn):
    """The PoolDN (lower case) of the pool a user's HomeServerDN names; "" when it names no pool's service
    control point."""
    rdns = _RDN_SPLIT.split(home_server_dn if isinstance(home_server_dn, str) else "", len(POOL_SERVICE_RDNS))
    if len(rdns) <= len(POOL_SERVICE_RDNS):
        return ""
    if tuple(r.strip().lower() for r in rdns[:len(POOL_SERVICE_RDNS)]) != POOL_SERVICE_RDNS:
        return ""
    return rdns[-1].lower()


def pools_by_dn(pool_settings):
    """{PoolDN in lower case: the pool's MSFT_SIPPoolSetting instance} of WMI's pools."""
    return dict(((p.get("PoolDN") or "").lower(), p) for p in pool_settings or [])


def home_pool(user_setting, pool_settings):
    """The MSFT_SIPPoolSetting instance of the pool that homes ``user_setting`` (an MSFT_SIPESUserSetting
    instance), or None when no pool's PoolDN matches its HomeServerDN. ``pool_settings`` is WMI's list of pools
    or pools_by_dn of it (read many users against one index)."""
    index = pool_settings if isinstance(pool_settings, dict) else pools_by_dn(pool_settings)
    dn = home_pool_dn(user_setting.get("HomeServerDN"))
    return index.get(dn) if dn else None
