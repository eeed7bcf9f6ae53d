"""The WMI classes a capture reads (issue 16) on a stage-1 contoso-large lab, as Microsoft documents them.

Sources: the OCS 2007 R2 WMI reference (lab/lync_lab/data/ocs2007r2-wmi.json: MSFT_SIPGlobalPresencePolicyData
dd146509, MSFT_SIPLocalNormalizationRuleData dd185890, MSFT_SIPRgsWorkflowData dd146569 with ContactDN,
MSFT_SIPRgsQueueData dd146568 with GroupIds/WorkflowIds, MSFT_SIPRgsGroupData dd146598 with AgentIds,
MSFT_SIPRgsAgentData dd130029 with SipAddress); MicrosoftDocs/win32:desktop-src/CIMWin32Prov/win32-operatingsystem.md
(Caption, Version, ServicePackMajorVersion: the OS as Windows names itself); MicrosoftDocs/win32:
desktop-src/WmiSdk/creating-and-updating-active-directory-objects.md (ds_user in root/directory/LDAP with
DS_sAMAccountName; ADS_UF_ACCOUNTDISABLE = 0x2) and mapping-active-directory-instances.md (one instance per AD
object, key ADSIPath).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "model"))
from model_shell import Shell  # noqa: E402

from lync_lab.config import LabConfig  # noqa: E402
from lync_lab.lab import Lab  # noqa: E402


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = Lab(LabConfig(stage=1, scenario="contoso-large", state_dir=tmp_path_factory.mktemp("large")))
    with lab.store.transaction() as tx:      # one disabled AD account, to see the flag
        doc = tx.get("user", "dpelton")
        tx.put("user", "dpelton", dict(doc, AdEnabled=False))
    yield lab
    lab.store.close()
    lab.audit.close()


def test_operating_system_is_the_hosts(lab):
    [os_fe] = Shell(lab, "ocs-fe03.contoso.net")("Get-WmiObject", Class="Win32_OperatingSystem")
    assert os_fe["Caption"] == "Microsoft Windows Server 2008 R2 Enterprise Service Pack 1"
    assert (os_fe["Version"], os_fe["ServicePackMajorVersion"]) == ("6.1.7601", 1)
    [os_edge] = Shell(lab, "ocs-edge01.contoso.net")("Get-WmiObject", Class="Win32_OperatingSystem")
    assert os_edge["Version"].startswith("5.2.") and os_edge["OSArchitecture"] is None   # not on Server 2003


def test_ds_user_on_the_domain_controller_only(lab):
    dc = Shell(lab, "dc01.contoso.net")
    [user] = dc("Get-WmiObject", Namespace="root\\directory\\LDAP", Class="ds_user",
                Filter="DS_sAMAccountName = 'dpelton'")
    assert user["DS_userPrincipalName"] == "david.pelton@contoso.net"
    assert user["DS_userAccountControl"] & 0x2                       # disabled
    assert user["ADSIPath"] == "LDAP://CN=David Pelton,OU=Users,OU=Contoso,DC=contoso,DC=net"
    assert len(dc("Get-WmiObject", Namespace="root\\directory\\LDAP", Class="ds_user")) == 20004
    err = Shell(lab, "ocs-fe01.contoso.net").fails("Get-WmiObject", Namespace="root\\directory\\LDAP", Class="ds_user")
    assert err.fqid == "LabClassNotModelled"


def test_presence_policies_and_normalization_rules(lab):
    ocs = Shell(lab, "ocs-fe01.contoso.net")
    policies = {p["Name"]: p for p in ocs("Get-WmiObject", Class="MSFT_SIPGlobalPresencePolicyData")}
    assert policies["Executive Presence Policy"]["PromptedSubscribers"] == 500
    assert policies["Executive Presence Policy"]["CategorySubscriptions"] == 3000
    rules = {r["Name"]: r for r in ocs("Get-WmiObject", Class="MSFT_SIPLocalNormalizationRuleData")}
    assert rules["Redmond 4-digit extension"]["Translation"] == "+1425555$1"
    # One rule object referenced by both profiles (MSFT_SIPLocationProfileData.NormalizationRules holds DNs).
    assert len(rules["US 10-digit national"]["LocationProfiles"]) == 2
    [profile] = ocs("Get-WmiObject", Class="MSFT_SIPLocationProfileData", Filter="Name = 'Dallas'")
    assert rules["US 10-digit national"]["NormalizationRuleDN"] in profile["NormalizationRules"]


def test_response_groups_link_workflow_queue_group_agent(lab):
    ocs = Shell(lab, "ocs-fe01.contoso.net")
    [wf] = ocs("Get-WmiObject", Class="MSFT_SIPRgsWorkflowData", Filter="Name = 'Help Desk'")
    contacts = {c["ContactDN"]: c for c in ocs("Get-WmiObject", Class="MSFT_SIPApplicationContactSetting")}
    assert contacts[wf["ContactDN"]]["PrimaryURI"] == "sip:helpdesk@contoso.net"
    [queue] = [q for q in ocs("Get-WmiObject", Class="MSFT_SIPRgsQueueData") if wf["InstanceId"] in q["WorkflowIds"]]
    groups = {g["InstanceId"]: g for g in ocs("Get-WmiObject", Class="MSFT_SIPRgsGroupData")}
    agents = {a["InstanceId"]: a for a in ocs("Get-WmiObject", Class="MSFT_SIPRgsAgentData")}
    [group_id] = queue["GroupIds"]
    assert [agents[a]["SipAddress"] for a in groups[group_id]["AgentIds"]] == ["sip:hao.chen@contoso.net"]
    assert wf["Backend"] == queue["Backend"] == "ocs-sql01.contoso.net\\rtc"


def test_conference_directories_of_the_legacy_pools(lab):
    """MSFT_SIPConferencingDirectoryData (reference dd130087: one per pool, created with it); its property names
    are not in the reference: ConferenceDirectoryId and HomePoolDN are the lab's (lab/FIDELITY.md, assumed)."""
    ocs = Shell(lab, "ocs-fe01.contoso.net")
    pools = {p["PoolDN"]: p["PoolFQDN"] for p in ocs("Get-WmiObject", Class="MSFT_SIPPoolSetting")}
    dirs = ocs("Get-WmiObject", Class="MSFT_SIPConferencingDirectoryData")
    assert [(d["ConferenceDirectoryId"], pools[d["HomePoolDN"]]) for d in dirs] == [
        (3, "pool01.contoso.net"), (4, "pool03.contoso.net"), (5, "pool04.contoso.net")]
