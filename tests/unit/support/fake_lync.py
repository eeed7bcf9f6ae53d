"""A fake Lync server at the session boundary: it decodes the real request, runs the calls against a small
in-memory model and answers through the real ResponseParser. Tests only."""

import json

from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import decode_request
from ansible_collections.lync.migration.plugins.module_utils.lync.response import ResponseParser
from ansible_collections.lync.migration.plugins.module_utils.lync.session import TransportFault


class FakeCmdletError(Exception):
    def __init__(self, message, category="NotSpecified", fqid="", transient=False, exception=""):
        super().__init__(message)
        self.doc = {"message": message, "fqid": fqid or message, "category": category, "target": "",
                    "exception": exception or "System.Management.Automation.RuntimeException",
                    "transient": transient}


def pool(fqdn, site="Site:Redmond", registrar=True, legacy=False):
    services = ["UserServer:" + fqdn] + (["Registrar:" + fqdn] if registrar else [])
    return {"Identity": fqdn, "Fqdn": fqdn, "Site": "Site:BackCompatSite" if legacy else site,
            "Services": services, "Computers": ["fe01." + fqdn.split(".", 1)[1]]}


def user(name, sip, pool_fqdn, enabled=True):
    sam = sip.split(":")[1].split("@")[0]
    return {"Identity": "CN=%s,OU=Users,DC=contoso,DC=net" % name, "SipAddress": sip, "DisplayName": name,
            "SamAccountName": sam, "UserPrincipalName": sam + "@contoso.net",
            "DistinguishedName": "CN=%s,OU=Users,DC=contoso,DC=net" % name, "RegistrarPool": pool_fqdn,
            "Enabled": enabled}


class FakeLync:
    """State plus a journal of every call the 'server' ran; ``faults`` lets a test inject failures."""

    def __init__(self, pools, users):
        self.pools = pools
        self.users = users
        self.calls = []           # (cmdlet, params) in the order the server ran them
        self.requests = []        # decoded requests
        self.shells_opened = 0
        self.shells_closed = 0
        self.move_faults = {}     # sip -> list of "transient" | "lost_after" | "lost_before" (consumed in order)
        self.read_faults = []     # list of "transient" for the next Get-CsUser calls

    def find_users(self, identity):
        key = identity.lower()
        return [u for u in self.users if key in (u["SipAddress"].lower(), u["DisplayName"].lower(),
                                                 u["SamAccountName"].lower(), u["UserPrincipalName"].lower(),
                                                 u["DistinguishedName"].lower())]

    def legacy_pools(self):
        return [p["Fqdn"] for p in self.pools if "BackCompatSite" in p["Site"]]

    def run(self, cmdlet, params):
        self.calls.append((cmdlet, dict(params)))
        if cmdlet == "Get-CsPool":
            if params.get("Identity"):
                found = [p for p in self.pools if p["Fqdn"].lower() == params["Identity"].lower()]
                if not found:
                    raise FakeCmdletError("Cannot find pool", "ObjectNotFound")
                return found
            return list(self.pools)
        if cmdlet == "Get-CsUser":
            if self.read_faults:
                self.read_faults.pop(0)
                raise FakeCmdletError("SQL Server is unavailable", "ResourceUnavailable", transient=True,
                                      exception="System.Data.SqlClient.SqlException")
            if "Identity" in params:
                found = self.find_users(params["Identity"])
                if not found:
                    raise FakeCmdletError('Management object not found for identity "%s".' % params["Identity"],
                                          "ObjectNotFound")
                return found
            users = list(self.users)
            if params.get("OnOfficeCommunicationServer"):
                users = [u for u in users if u["RegistrarPool"] in self.legacy_pools()]
            return users
        if cmdlet in ("Move-CsLegacyUser", "Move-CsUser"):
            found = self.find_users(params["Identity"])
            if len(found) != 1:
                raise FakeCmdletError("not found", "ObjectNotFound")
            target = found[0]
            legacy = target["RegistrarPool"] in self.legacy_pools()
            if cmdlet == "Move-CsLegacyUser" and not legacy:
                raise FakeCmdletError("User is not homed on OCS", "InvalidOperation")
            if cmdlet == "Move-CsUser" and legacy:
                raise FakeCmdletError("Use Move-CsLegacyUser", "InvalidOperation")
            target["RegistrarPool"] = params["Target"]
            return []
        if cmdlet == "Get-CsManagementStoreReplicationStatus":
            return [{"ReplicaFqdn": "fe01.contoso.net", "UpToDate": True, "LastStatusReport": "1/1/2014",
                     "LastUpdateCreation": "1/1/2014"},
                    {"ReplicaFqdn": "edge01.contoso.net", "UpToDate": False, "LastStatusReport": None,
                     "LastUpdateCreation": "1/1/2014"}]
        raise FakeCmdletError("The term '%s' is not recognized" % cmdlet, "ObjectNotFound",
                              fqid="CommandNotFoundException")


class FakeSession:
    """Stands in for session.WinRMSession; LyncModule.session_factory / LyncClient(session_factory=...)."""

    server = None  # a FakeLync, set by the test

    def __init__(self, options):
        self.options = options
        self.lync = type(self).server

    def open_shell(self):
        self.lync.shells_opened += 1
        return "shell-%d" % self.lync.shells_opened

    def close_shell(self, shell_id):
        self.lync.shells_closed += 1

    delay = 0.0  # seconds per request, so parallel shells really overlap in tests

    def run_envelope(self, shell_id, calls, stdin_bytes, on_result=None):
        if self.delay:
            import time
            time.sleep(self.delay)
        request = decode_request(stdin_bytes)
        self.lync.requests.append(request)
        parser = ResponseParser(calls)
        lines = [{"ready": True, "computer": "FE01", "ps": "3.0"}]
        for doc in request["calls"]:
            params = doc["params"]
            sip_faults = self.lync.move_faults.get(params.get("Identity"), []) \
                if doc["cmdlet"].startswith("Move-") else []
            fault = sip_faults.pop(0) if sip_faults else None
            if fault == "lost_before":
                self._feed(parser, lines, on_result)
                raise self._lost(parser)
            try:
                if fault == "transient":
                    raise FakeCmdletError("SQL Server is unavailable", "ResourceUnavailable", transient=True,
                                          exception="System.Data.SqlClient.SqlException")
                objects = self.lync.run(doc["cmdlet"], params)
                if fault == "lost_after":
                    # The cmdlet ran, then the connection dropped before its result line was read.
                    self._feed(parser, lines, on_result)
                    raise self._lost(parser)
                if doc.get("select") is not None:
                    objects = [dict((k, v) for k, v in o.items() if k in doc["select"]) for o in objects]
                lines.append({"id": doc["id"], "ok": True, "objects": objects})
            except FakeCmdletError as exc:
                lines.append({"id": doc["id"], "ok": False, "error": exc.doc})
        lines.append({"done": True})
        self._feed(parser, lines, on_result)
        return parser

    def _feed(self, parser, lines, on_result):
        data = b"".join(json.dumps(line).encode() + b"\r\n" for line in lines)
        del lines[:]
        for kind, payload in parser.feed(data):
            if kind == "result" and on_result:
                on_result(*payload)

    @staticmethod
    def _lost(parser):
        fault = TransportFault("connection reset during receive", transient=True, sent=True, phase="receive")
        fault.parser = parser
        return fault
