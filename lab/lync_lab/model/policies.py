"""Lync Server 2013 policies (CMS) and the OCS 2007 R2 configuration they are imported from.

OCS side (what WMI shows, what Import-CsLegacyConfiguration reads), key = the legacy name:
  "legacy_meeting_policy", "legacy_location_profile", "legacy_voice_policy", "legacy_voice_route",
  "legacy_presence_policy", "legacy_external_access_policy", "legacy_archiving_policy"; meta "legacy_cwa".
Lync side, key = Identity ("Global", "Tag:<name>", a route's name):
  "conferencing_policy", "voice_policy", "dial_plan", "voice_route", "presence_policy",
  "external_access_policy", "archiving_policy"; meta "cwa_urls", meta "legacy_import".
"""

from __future__ import annotations

LEGACY_KINDS = {
    "meeting_policies": "legacy_meeting_policy",
    "location_profiles": "legacy_location_profile",
    "voice_policies": "legacy_voice_policy",
    "voice_routes": "legacy_voice_route",
    "presence_policies": "legacy_presence_policy",
    "external_access_policies": "legacy_external_access_policy",
    "archiving_policies": "legacy_archiving_policy",
}

CONFERENCING_DEFAULTS = {
    "AllowIPAudio": True, "AllowIPVideo": True, "AllowMultiView": True, "Description": None,
    "AllowParticipantControl": True, "AllowAnnotations": True, "DisablePowerPointAnnotations": False,
    "AllowUserToScheduleMeetingsWithAppSharing": True, "ApplicationSharingMode": "VideoWithFallback",
    "AllowNonEnterpriseVoiceUsersToDialOut": False, "AllowAnonymousUsersToDialOut": False,
    "AllowAnonymousParticipantsInMeetings": True, "AllowFederatedParticipantJoinAsSameEnterprise": False,
    "AllowExternalUsersToSaveContent": True, "AllowExternalUserControl": False,
    "AllowExternalUsersToRecordMeeting": False, "AllowPolls": True, "AllowSharedNotes": True, "AllowQandA": True,
    "AllowOfficeContent": True, "EnableDialInConferencing": True, "EnableAppDesktopSharing": "Desktop",
    "AllowConferenceRecording": False, "EnableP2PRecording": False, "EnableFileTransfer": True,
    "EnableP2PFileTransfer": True, "EnableP2PVideo": False, "AllowLargeMeetings": False,
    "EnableOnlineMeetingPromptForLyncResources": False, "EnableDataCollaboration": True,
    "MaxVideoConferenceResolution": "VGA", "MaxMeetingSize": 250, "AudioBitRateKb": 200, "VideoBitRateKb": 50000,
    "AppSharingBitRateKb": 50000, "FileTransferBitRateKb": 50000, "TotalReceiveVideoBitRateKb": 50000,
    "EnableMultiViewJoin": True,
}
VOICE_POLICY_DEFAULTS = {
    "PstnUsages": [], "Description": None, "AllowSimulRing": True, "AllowCallForwarding": True,
    "AllowPSTNReRouting": True, "Name": None, "EnableDelegation": True, "EnableTeamCall": True,
    "EnableCallTransfer": True, "EnableCallPark": False, "EnableMaliciousCallTracing": False,
    "EnableBWPolicyOverride": False, "PreventPSTNTollBypass": False,
    "CallForwardingSimulRingUsageType": "VoicePolicyUsage", "VoiceDeploymentMode": "OnPrem",
}
DIAL_PLAN_DEFAULTS = {
    "Description": None, "DialinConferencingRegion": None, "NormalizationRules": [], "ExternalAccessPrefix": None,
    "SimpleName": None, "OptimizeDeviceDialing": False, "State": None, "City": None, "CountryCode": None,
}
VOICE_ROUTE_DEFAULTS = {
    "Priority": 0, "Description": None, "NumberPattern": "", "PstnUsages": [], "PstnGatewayList": [], "Name": None,
    "SuppressCallerId": None, "AlternateCallerId": None,
}
EXTERNAL_ACCESS_DEFAULTS = {
    "Description": None, "EnableFederationAccess": False, "EnableXmppAccess": False,
    "EnablePublicCloudAccess": False, "EnablePublicCloudAudioVideoAccess": False, "EnableOutsideAccess": False,
}
ARCHIVING_DEFAULTS = {"Description": None, "ArchiveInternal": False, "ArchiveExternal": False}
PRESENCE_DEFAULTS = {"Description": None, "MaxPromptedSubscriber": 200, "MaxCategorySubscription": 1000}

POLICY_KINDS = {
    "conferencing_policy": CONFERENCING_DEFAULTS,
    "voice_policy": VOICE_POLICY_DEFAULTS,
    "dial_plan": DIAL_PLAN_DEFAULTS,
    "external_access_policy": EXTERNAL_ACCESS_DEFAULTS,
    "archiving_policy": ARCHIVING_DEFAULTS,
    "presence_policy": PRESENCE_DEFAULTS,
}


def policy_doc(kind: str, identity: str, **values) -> dict:
    defaults = VOICE_ROUTE_DEFAULTS if kind == "voice_route" else POLICY_KINDS[kind]
    doc = {"Identity": identity}
    doc.update(defaults)
    unknown = set(values) - set(defaults)
    if unknown:
        raise KeyError(f"{kind}: unknown properties {sorted(unknown)}")
    doc.update(values)
    if kind == "voice_policy" and doc["Name"] is None:
        doc["Name"] = identity.split(":", 1)[-1]
    if kind == "dial_plan" and doc["SimpleName"] is None:
        doc["SimpleName"] = identity.split(":", 1)[-1]
    return doc


def seed_lync_globals(tx) -> None:
    """What a freshly published Lync Server 2013 CMS holds (Phase 3)."""
    for kind in POLICY_KINDS:
        if kind == "presence_policy":
            continue   # Lync 2013 ships no global presence policy
        tx.put(kind, "Global", policy_doc(kind, "Global"))
    tx.put("voice_route", "LocalRoute", policy_doc(
        "voice_route", "LocalRoute", Name="LocalRoute", NumberPattern="^(\\+1[0-9]{10})$", PstnUsages=[],
        Priority=0))


def seed_legacy(tx, legacy: dict) -> None:
    for section, kind in LEGACY_KINDS.items():
        for item in legacy.get(section) or []:
            tx.put(kind, item["name"], dict(item))
    if legacy.get("cwa"):
        tx.meta_put("legacy_cwa", dict(legacy["cwa"]))


def _rule(r: dict) -> str:
    return (f"Description={r.get('description') or ''};Pattern={r['pattern']};Translation={r['translation']};"
            f"Name={r['name']};IsInternalExtension=False")


def converted(tx) -> list[tuple[str, str, dict]]:
    """(kind, identity, Lync object) for every legacy item, as Import-CsLegacyConfiguration creates them."""
    out: list[tuple[str, str, dict]] = []
    for _k, mp in tx.query("legacy_meeting_policy"):
        ident = f"Tag:{mp['name']}"
        out.append(("conferencing_policy", ident, policy_doc(
            "conferencing_policy", ident,
            Description=f"Imported from OCS 2007 R2 meeting policy {mp['name']}",
            MaxMeetingSize=int(mp.get("max_meeting_size", 250)),
            AllowIPAudio=bool(mp.get("allow_ip_audio", True)),
            AllowIPVideo=bool(mp.get("allow_ip_video", True)),
            EnableDataCollaboration=bool(mp.get("enable_data_collaboration", True)),
            EnableAppDesktopSharing=mp.get("app_sharing", "Desktop"),
            AllowAnonymousParticipantsInMeetings=bool(mp.get("allow_anonymous", False)))))
    for _k, lp in tx.query("legacy_location_profile"):
        ident = f"Tag:{lp['name']}"
        out.append(("dial_plan", ident, policy_doc(
            "dial_plan", ident, Description=f"Imported from OCS 2007 R2 location profile {lp['name']}",
            NormalizationRules=[_rule(r) for r in lp.get("rules") or []])))
    for _k, vp in tx.query("legacy_voice_policy"):
        ident = f"Tag:{vp['name']}"
        out.append(("voice_policy", ident, policy_doc(
            "voice_policy", ident, PstnUsages=list(vp.get("pstn_usages") or []),
            AllowSimulRing=bool(vp.get("allow_simul_ring", True)),
            AllowCallForwarding=bool(vp.get("allow_call_forwarding", True)))))
    for i, (_k, vr) in enumerate(tx.query("legacy_voice_route")):
        out.append(("voice_route", vr["name"], policy_doc(
            "voice_route", vr["name"], Name=vr["name"], NumberPattern=vr["pattern"], Priority=i + 1,
            PstnUsages=list(vr.get("pstn_usages") or []),
            PstnGatewayList=[f"PstnGateway:{g}" for g in vr.get("gateways") or []])))
    for _k, pp in tx.query("legacy_presence_policy"):
        ident = f"Tag:{pp['name']}"
        out.append(("presence_policy", ident, policy_doc(
            "presence_policy", ident, MaxPromptedSubscriber=int(pp.get("max_prompted_subscribers", 200)),
            MaxCategorySubscription=int(pp.get("max_category_subscription", 1000)))))
    for _k, ea in tx.query("legacy_external_access_policy"):
        ident = f"Tag:{ea['name']}"
        out.append(("external_access_policy", ident, policy_doc(
            "external_access_policy", ident, EnableFederationAccess=bool(ea.get("federation")),
            EnableOutsideAccess=bool(ea.get("remote_access")), EnablePublicCloudAccess=bool(ea.get("public_im")))))
    for _k, ap in tx.query("legacy_archiving_policy"):
        ident = f"Tag:{ap['name']}"
        out.append(("archiving_policy", ident, policy_doc(
            "archiving_policy", ident, ArchiveInternal=bool(ap.get("archive_internal")),
            ArchiveExternal=bool(ap.get("archive_external")))))
    return out


def import_legacy_configuration(tx, replace_existing: bool = False, report: str | None = None) -> dict:
    """Create the Lync copies of the legacy configuration; only new items unless ``replace_existing``.
    Returns {"created": [...], "replaced": [...], "skipped": [...]} of "kind:identity" strings."""
    summary: dict[str, list[str]] = {"created": [], "replaced": [], "skipped": []}
    for kind, ident, doc in converted(tx):
        label = f"{kind}:{ident}"
        existing = tx.get(kind, ident)
        if existing is None:
            tx.put(kind, ident, doc)
            summary["created"].append(label)
        elif replace_existing:
            if existing != doc:
                tx.put(kind, ident, doc)
                summary["replaced"].append(label)
        else:
            summary["skipped"].append(label)
    cwa = tx.meta_get("legacy_cwa")
    if cwa and (replace_existing or tx.meta_get("cwa_urls") is None):
        tx.meta_put("cwa_urls", {"InternalUrl": cwa.get("internal_url"), "ExternalUrl": cwa.get("external_url")})
    state = tx.meta_get("legacy_import") or {"runs": 0, "reports": []}
    state["runs"] += 1
    state["imported"] = True
    if report:
        state["reports"].append(report)
    tx.meta_put("legacy_import", state)
    return summary


def imported(tx) -> bool:
    return bool((tx.meta_get("legacy_import") or {}).get("imported"))
