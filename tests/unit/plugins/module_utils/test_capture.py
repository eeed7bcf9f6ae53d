"""plugins/module_utils/lync/capture.py: WMI reads + inventory hosts -> a lab scenario the lab's loader accepts."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.lync.migration.plugins.module_utils.lync import capture, capture_objects

POOL_DN = "CN=pool01,CN=Pools,CN=RTC Service,CN=Microsoft,CN=System,DC=contoso,DC=net"  # the pool object (legacy.py)
OU = "OU=Users,OU=Contoso,DC=contoso,DC=net"
HOSTS = {"ocs_legacy_pool": ["ocs-fe01.contoso.net"], "ocs_legacy_edge": ["ocs-edge01.contoso.net"],
         "lync_admin": ["lync-fe01.contoso.net"], "lync_pilot_fe": ["lync-fe01.contoso.net"],
         "domain_controllers": ["dc01.contoso.net"]}


def _user(name, sip, ou=OU, **extra):
    return {"DisplayName": name, "PrimaryURI": "sip:" + sip, "HomeServerDN": "CN=LC Services,CN=Microsoft," + POOL_DN,
            "UserDN": "CN=%s,%s" % (name.replace(",", "\\,"), ou), "Enabled": True, **extra}


def _instances(users):
    return {"MSFT_SIPPoolSetting": [{"PoolFQDN": "pool01.contoso.net", "PoolDN": POOL_DN, "PoolType": "Enterprise",
                                     "DomainFQDN": "contoso.net", "PoolMemberList": ["ocs-fe01.contoso.net"],
                                     "BackEndDBPath": "ocs-sql01.contoso.net\\rtc"}],
            "MSFT_SIPESUserSetting": users,
            "MSFT_SIPGlobalMeetingPolicyData": [{"Name": "Default Policy", "MeetingSize": 250, "AllowIPAudio": True,
                                                 "AllowIPVideo": True, "EnableDataCollaboration": True,
                                                 "EnableAppDesktopSharing": "Desktop"}],
            "MSFT_SIPEdgeProxySetting": [{"EdgeProxyFQDN": "sip.contoso.net"}]}


def _build(users):
    return capture.build_scenario(_instances(users), HOSTS, "mine", "CONTOSO", "lyncadmin", "Lab-Passw0rd!",
                                  pilot_pool="pool02.contoso.net", site="Redmond")


def test_users_pools_and_servers():
    users = [_user("Ken Myer ", "ken.myer@contoso.net", LineURI="tel:+14255550101",
                   MeetingPolicy="CN={Default Policy},CN=Policies,CN=RTC Service,CN=Microsoft,CN=System,DC=contoso,DC=net"),
             _user("Myer, Ken", "ken.myer2@contoso.net", ou="OU=Elsewhere,DC=contoso,DC=net"),
             _user("Ken Myer ", "ken.myer3@contoso.net")]     # the OU most users are in is users_ou
    s = _build(users)
    assert s["domain"] == {"fqdn": "contoso.net", "netbios": "CONTOSO", "users_ou": OU}
    by_sip = {u["sip"]: u for u in s["users"]}
    ken, other = by_sip["ken.myer@contoso.net"], by_sip["ken.myer2@contoso.net"]
    assert ken == {"name": "Ken Myer ", "sip": "ken.myer@contoso.net", "sam": "ken.myer", "pool": "pool01.contoso.net",
                   "meeting_policy": "Default Policy", "line_uri": "tel:+14255550101"}
    assert other["ou"] == "OU=Elsewhere,DC=contoso,DC=net" and other["meeting_policy"] is None
    roles = {x["fqdn"]: (x["role"], x.get("pool"), x["http_port"], x.get("admin")) for x in s["servers"]}
    assert roles == {"ocs-fe01.contoso.net": ("ocs_frontend", "pool01.contoso.net", 55987, None),
                     "ocs-edge01.contoso.net": ("ocs_edge", None, 55989, None),
                     "lync-fe01.contoso.net": ("lync_frontend", "pool02.contoso.net", 55985, True),
                     "dc01.contoso.net": ("dc", None, 55991, None)}
    assert s["legacy"]["pools"] == [{"fqdn": "pool01.contoso.net", "edition": "enterprise",
                                     "frontends": ["ocs-fe01.contoso.net"], "backend": "ocs-sql01.contoso.net"}]
    assert s["legacy"]["edge"] == {"server": "ocs-edge01.contoso.net", "access_edge_fqdn": "sip.contoso.net"}


def test_derived_sams_are_valid_and_unique():
    taken = set()
    assert capture.derive_sam("a.very.long.local.part.indeed@x.net", taken) == "a.very.long.local.pa"
    assert capture.derive_sam("a.very.long.local.part.indeed@y.net", taken) == "a.very.long.local.p1"
    assert capture.derive_sam("o'brien+x@x.net", taken) == "o'brienx"


def test_same_reads_same_text_and_the_loader_accepts_it(tmp_path):
    from lync_lab.model.scenario import load_scenario

    users = [_user("Zoë Ærø", "zoe@contoso.net"), _user("Patrick O'Brien", "pobrien@contoso.net")]
    text = capture.scenario_yaml(_build(users))
    assert text == capture.scenario_yaml(_build(list(reversed(users))))
    assert "Zoë Ærø" in text
    path = tmp_path / "mine.yml"
    path.write_text(text, encoding="utf-8")
    loaded = load_scenario(path)
    assert [u["name"] for u in loaded.users] == ["Patrick O'Brien", "Zoë Ærø"]
    assert yaml.safe_load(text)["accounts"][0]["user"] == "lyncadmin"


def test_problems_name_what_to_do():
    with pytest.raises(capture.CaptureError, match="lync_migration_capture_netbios"):
        capture.split_account("lyncadmin")
    assert capture.split_account("CONTOSO\\lyncadmin") == ("CONTOSO", "lyncadmin")
    bad = _user("Lost User", "lost@contoso.net")
    bad["HomeServerDN"] = "CN=LC Services,CN=Microsoft,CN=gone,DC=contoso,DC=net"
    with pytest.raises(capture.CaptureError, match="no MSFT_SIPPoolSetting PoolDN names"):
        _build([bad])
    with pytest.raises(capture.CaptureError, match="no lync_admin host"):
        capture.build_scenario(_instances([]), {"ocs_legacy_pool": ["ocs-fe01.contoso.net"]}, "m", "C", "a", "p")


def test_directory_os_policies_and_pool_objects():
    """ds_user gives the sam, UPN and disabled flag; Win32_OperatingSystem the os; UCPolicy the voice policy; the
    Response Group classes and application contacts the topology's response groups and dial-in numbers."""
    contact = "CN={c1},CN=Application Contacts,CN=RTC Service,CN=Microsoft,CN=System,DC=contoso,DC=net"
    dialin = "CN={c2},CN=Application Contacts,CN=RTC Service,CN=Microsoft,CN=System,DC=contoso,DC=net"
    users = [_user("Ken Myer", "ken.myer@contoso.net",
                   UCPolicy="CN={Executive Voice Policy},CN=Policies,CN=RTC Service,CN=Microsoft,CN=System,DC=contoso,DC=net")]
    instances = _instances(users)
    instances.update({
        "MSFT_SIPGlobalPresencePolicyData": [{"Name": "P1", "PromptedSubscribers": 500, "CategorySubscriptions": 3000}],
        "MSFT_SIPApplicationContactSetting": [
            {"ContactDN": contact, "PrimaryURI": "sip:helpdesk@contoso.net", "LineURI": "tel:+1", "HomeServerDN": "CN=LC Services,CN=Microsoft," + POOL_DN},
            {"ContactDN": dialin, "PrimaryURI": "sip:dialin@contoso.net", "DisplayName": "Dial-in", "LineURI": "tel:+2",
             "DisplayNumber": "+2", "PrimaryLanguage": "en-US", "SecondaryLanguages": ["es-US"],
             "HomeServerDN": "CN=LC Services,CN=Microsoft," + POOL_DN}],
        "MSFT_SIPLocationContactsMapping": [{"LocationProfile": "CN={Dallas},CN=Location Profiles,CN=RTC Service,DC=x",
                                             "ApplicationContacts": [dialin]}],
        "MSFT_SIPRgsWorkflowData": [{"Name": "Help Desk", "Backend": "ocs-sql01.contoso.net\\rtc", "InstanceId": "{w}",
                                     "ContactDN": contact}],
        "MSFT_SIPRgsQueueData": [{"Backend": "ocs-sql01.contoso.net\\rtc", "WorkflowIds": ["{w}"], "GroupIds": ["{g}"]}],
        "MSFT_SIPRgsGroupData": [{"Backend": "ocs-sql01.contoso.net\\rtc", "InstanceId": "{g}", "AgentIds": ["{a}"]}],
        "MSFT_SIPRgsAgentData": [{"Backend": "ocs-sql01.contoso.net\\rtc", "InstanceId": "{a}",
                                  "SipAddress": "sip:ken.myer@contoso.net"}],
        "MSFT_SIPConferencingDirectoryData": [{"ConferenceDirectoryId": 3, "HomePoolDN": POOL_DN}]})
    directory = [{"DS_distinguishedName": "CN=Ken Myer," + OU, "DS_sAMAccountName": "kmyer",
                  "DS_userPrincipalName": "kmyer@corp.contoso.net", "DS_userAccountControl": 0x202}]
    systems = {"ocs-fe01.contoso.net": {"Version": "6.1.7601", "ServicePackMajorVersion": 1},
               "lync-fe01.contoso.net": {"Version": "6.1.7601", "ServicePackMajorVersion": 1}}
    plan = {"pilot_sql": "lync-sql01.contoso.net", "waves": [{"name": "test", "identities": ["sip:ken.myer@contoso.net", "x"]}]}
    s = capture.build_scenario(instances, HOSTS, "mine", "CONTOSO", "lyncadmin", "pw", pilot_pool="pool02.contoso.net",
                               directory=directory, systems=systems, plan=plan)
    [ken] = s["users"]
    assert (ken["sam"], ken["upn"], ken["ad_enabled"], ken["voice_policy"]) == \
        ("kmyer", "kmyer@corp.contoso.net", False, "Executive Voice Policy")
    assert {x["fqdn"]: x.get("os") for x in s["servers"]}["lync-fe01.contoso.net"] == "2008r2sp1-wmf3"   # Lync needs WMF 3.0
    assert {x["fqdn"]: x.get("os") for x in s["servers"]}["ocs-fe01.contoso.net"] == "2008r2sp1"
    assert s["legacy"]["presence_policies"] == [{"name": "P1", "max_prompted_subscribers": 500,
                                                 "max_category_subscription": 3000}]
    assert s["legacy"]["voice_policies"] == [{"name": "Executive Voice Policy"}]
    topo = s["topology"]
    assert topo["response_groups"] == [{"name": "Help Desk", "pool": "pool01.contoso.net", "sip_address": "sip:helpdesk@contoso.net",
                                        "line_uri": "tel:+1", "agents": ["sip:ken.myer@contoso.net"]}]
    assert topo["dial_in_numbers"] == [{"sip_address": "sip:dialin@contoso.net", "display_name": "Dial-in", "line_uri": "tel:+2",
                                        "pool": "pool01.contoso.net", "display_number": "+2",
                                        "languages": ["en-US", "es-US"], "regions": ["Dallas"]}]
    assert topo["conference_directories"] == [{"id": 3, "pool": "pool01.contoso.net"}]
    assert s["waves"] == {"test": ["Ken Myer"]}
    assert capture.unplaced_wave_members(s, plan["waves"]) == ["test: x"]


def test_dns_records_and_the_changes_the_guide_plans():
    records = [{"name": "pool01.contoso.net", "type": "A", "found": True, "addresses": ["10.0.0.1"]},
               {"name": "pool02.contoso.net", "type": "A", "found": False},
               {"name": "_sipinternaltls._tcp.contoso.net", "type": "SRV", "found": True,
                "targets": [{"target": "pool01.contoso.net.", "port": 5061, "priority": 0, "weight": 0}]}]
    plan = {"pilot_pool": "pool02.contoso.net", "pilot_pool_address": "10.0.0.2"}
    zone = capture_objects.dns_section(records, plan, ["pool01.contoso.net"])
    assert zone["records"] == [
        {"name": "pool01.contoso.net", "type": "A", "address": "10.0.0.1"},
        {"name": "_sipinternaltls._tcp.contoso.net", "type": "SRV", "target": "pool01.contoso.net", "port": 5061,
         "until_stage": 10},
        {"name": "_sipinternaltls._tcp.contoso.net", "type": "SRV", "target": "pool02.contoso.net", "port": 5061,
         "from_stage": 11},
        {"name": "pool02.contoso.net", "type": "A", "address": "10.0.0.2", "from_stage": 3}]
    queries = capture_objects.dns_queries(HOSTS, _instances([]), {"pilot_pool": "pool02.contoso.net"})
    assert {"name": "ocs-sql01.contoso.net", "type": "A"} in queries
    assert queries[-1] == {"name": "_sipinternaltls._tcp.contoso.net", "type": "SRV"}
