"""WS-Management SOAP: parsing requests and building responses and faults shaped like Windows' WinRM service.

Everything here is pure (no sockets, no threads): ``parse_request(bytes) -> WSManRequest``, the ``*_response``
builders return the XML text of a whole envelope, and ``WSManFault`` carries a fault until the listener
renders it with ``fault_envelope``. Namespaces, prefixes, action URIs and WSManFault codes follow what
Windows sends (MS-WSMV), so pywinrm and other clients parse the lab's answers as they parse Windows'.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
}

SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
CMD_RESOURCE_URI = SHELL_URI + "/cmd"
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = SHELL_URI + "/Command"
ACTION_SEND = SHELL_URI + "/Send"
ACTION_RECEIVE = SHELL_URI + "/Receive"
ACTION_SIGNAL = SHELL_URI + "/Signal"
ACTION_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
# WS-Enumeration (DSP0226 section 8): the active shells of the caller (MS-WSMV 3.1.4.8.2, 3.1.4.9.2).
ENUMERATION_URI = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
ACTION_ENUMERATE = ENUMERATION_URI + "/Enumerate"
ACTION_PULL = ENUMERATION_URI + "/Pull"
ACTION_RELEASE = ENUMERATION_URI + "/Release"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
STATE_RUNNING = SHELL_URI + "/CommandState/Running"
STATE_DONE = SHELL_URI + "/CommandState/Done"
SIGNAL_TERMINATE = SHELL_URI + "/signal/terminate"
SIGNAL_CTRL_C = SHELL_URI + "/signal/ctrl_c"
SIGNAL_CTRL_BREAK = SHELL_URI + "/signal/ctrl_break"

# WinRM 3.0's defaults (winrm get winrm/config): MaxEnvelopeSizekb 500, MaxTimeoutms 60000. Each server's own
# values come from its HostProfile (lync_lab/hosts.py); these apply when a caller gives none.
MAX_ENVELOPE_BYTES = 500 * 1024
MAX_TIMEOUT_SECONDS = 60.0
# WS-Transfer Get of the WinRM configuration (what `winrm get winrm/config` and Get-WSManInstance read).
ACTION_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
CONFIG_URI = "http://schemas.microsoft.com/wbem/wsman/1/config"
CONFIG_WINRS_URI = CONFIG_URI + "/winrs"
CONFIG_SERVICE_URI = CONFIG_URI + "/service"


class WSManFault(Exception):
    """A SOAP fault as Windows' WinRM service sends it (HTTP 500 with s:Fault and a WSManFault detail)."""

    def __init__(self, code: str, subcode: str, wsman_code: int, message: str, http_status: int = 500,
                 reason: str | None = None, fault_detail: str | None = None) -> None:
        super().__init__(message)
        self.code = code              # s:Sender | s:Receiver
        self.subcode = subcode        # w:TimedOut, w:QuotaLimit, ...
        self.wsman_code = wsman_code  # the HRESULT in WSManFault/@Code
        self.message = message        # f:WSManFault/f:Message
        self.http_status = http_status
        self.reason = reason if reason is not None else message   # s:Reason/s:Text, when Windows words it apart
        self.fault_detail = fault_detail                          # w:FaultDetail URI, when Windows sends one


# --- the faults the lab gives, with Windows' codes (wsmerror.h) and messages ---------------------------------

def timed_out() -> WSManFault:
    # ERROR_WSMAN_OPERATION_TIMEDOUT 0x80338029; Windows pads this message with two spaces.
    return WSManFault("s:Receiver", "w:TimedOut", 2150858793,
                      "The WS-Management service cannot complete the operation within the time specified in "
                      "OperationTimeout.  ")


def max_shells(limit: int) -> WSManFault:
    # ERROR_WSMAN_QUOTA_MAX_SHELLS 0x803381A5; the wording Windows Server 2008 R2+ shows for MaxShellsPerUser.
    return WSManFault("s:Sender", "w:QuotaLimit", 2150859173,
                      f"The WS-Management service cannot process the request. This user is allowed a maximum number "
                      f"of {limit} concurrent shells, which has been exceeded. Close existing shells or raise the "
                      f"quota for this user. ")


def max_operations(limit: int) -> WSManFault:
    # ERROR_WSMAN_QUOTA_MAX_OPERATIONS 0x803381A6 (MaxConcurrentOperationsPerUser).
    return WSManFault("s:Sender", "w:QuotaLimit", 2150859174,
                      f"The WS-Management service cannot process the request. This user is allowed a maximum number "
                      f"of {limit} concurrent operations, which has been exceeded. Close existing operations for this "
                      f"user, or raise the quota for this user. ")


# A request larger than MaxEnvelopeSizekb is refused at the HTTP level: status 413 and no SOAP body. The Windows
# WinRM client reports that status as ERROR_WSMAN_HTTP_REQUEST_TOO_LARGE_STATUS 0x80338111 ("The WinRM client sent
# a request to the remote WS-Management service and was notified that the request size exceeded the configured
# MaxEnvelopeSize quota.", wsmerror.h); pywinrm raises WinRMTransportError with code 413 (seen against Windows in
# ansible-collections/ansible.windows#391 and #620, where the maintainer explains 413 as the WinRM service refusing
# data larger than MaxEnvelopeSizekb).
REQUEST_TOO_LARGE_STATUS = 413


def max_shell_users(limit: int) -> WSManFault:
    # ERROR_WSMAN_QUOTA_MAX_SHELLUSERS 0x803381AB (2150859179): wsmerror.h's text; MaxConcurrentUsers (winrs).
    return WSManFault("s:Sender", "w:QuotaLimit", 2150859179,
                      "The WS-Management service cannot process the request. The maximum number of users executing "
                      "shell operations has been exceeded. Retry after some time or raise the quota for concurrent "
                      "shell users. ")


def max_processes(limit: int) -> WSManFault:
    # MaxProcessesPerShell: the shell's job object refuses the new process. No Microsoft page says what the client
    # then sees; *assumed*: the Command fails with the Win32 error CreateProcess gets for a job's process limit,
    # ERROR_NOT_ENOUGH_QUOTA (1816) as HRESULT 0x80070718, with its system message.
    return WSManFault("s:Receiver", "w:InternalError", 2147944216,
                      f"Not enough quota is available to process this command. (MaxProcessesPerShell {limit}) ")


def shell_not_found(shell_id: str) -> WSManFault:
    # What Windows sends for an unknown, deleted or reaped (IdleTimeout) ShellId: subcode w:InvalidSelectors, the
    # generic invalid-selectors Reason, FaultDetail UnexpectedSelectors, and the shell text in the WSManFault
    # Message with code 2150858843 (a captured Windows fault, in a WinRM client's test data; the message text is
    # also quoted in Microsoft's Exchange Online PowerShell connection troubleshooting topics).
    return WSManFault("s:Sender", "w:InvalidSelectors", 2150858843,
                      f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was "
                      f"not found on the server. Possible causes are: the specified ShellId is incorrect or the shell "
                      f"no longer exists on the server. Provide the correct ShellId or create a new shell and retry "
                      f"the operation. ",
                      reason="The WS-Management service cannot process the request because the request contained "
                             "invalid selectors for the resource. ",
                      fault_detail="http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors")


def command_not_found(command_id: str) -> WSManFault:
    return WSManFault("s:Sender", "w:InvalidParameter", 2150858810,
                      f"The WS-Management service cannot process the request because a parameter for the operation "
                      f"is not valid. No command with CommandId {command_id} exists in this shell. ")


def action_not_supported(action: str) -> WSManFault:
    # ERROR_WSMAN_ACTION_NOT_SUPPORTED 0x80338013
    return WSManFault("s:Sender", "a:ActionNotSupported", 2150858771,
                      f"The WS-Management service does not support the specified action: {action}. ")


def invalid_xml() -> WSManFault:
    # ERROR_WSMAN_INVALID_XML 0x80338043
    return WSManFault("s:Sender", "w:SchemaValidationError", 2150858819,
                      "The WS-Management service cannot process the request because the XML is invalid. ")


def invalid_enumeration_context() -> WSManFault:
    # ERROR_WSMAN_ENUMERATE_INVALID_ENUMERATION_CONTEXT 0x8033801B (wsen, code=Receiver).
    return WSManFault("s:Receiver", "n:InvalidEnumerationContext", 2150858779,
                      "The WS-Enumeration context in the enumeration is not valid. Enumeration may have been completed "
                      "or canceled. You cannot use this enumeration context anymore. Start a new enumeration. ")


def filtering_not_supported() -> WSManFault:
    # ERROR_WSMAN_ENUMERATE_FILTERING_NOT_SUPPORTED 0x80338018; MS-WSMV 3.1.4.8.2: a wsman:Filter on the cmd shell
    # resource MUST get this fault.
    return WSManFault("s:Sender", "n:FilteringNotSupported", 2150858776,
                      "The data source does not support filtering. Remove the filter from the request and try the "
                      "request again. ")


def internal_error() -> WSManFault:
    # wsman:InternalError; Windows wraps the failing HRESULT, here E_FAIL (0x80004005).
    return WSManFault("s:Receiver", "w:InternalError", 2147500037,
                      "The WS-Management service cannot process the request. The service encountered an internal "
                      "error and could not complete the request. Retry the request. ")


# --- requests -----------------------------------------------------------------------------------------------

@dataclass
class WSManRequest:
    action: str
    message_id: str
    resource_uri: str
    selectors: dict[str, str]
    options: dict[str, str]
    operation_timeout: float
    max_envelope_size: int
    body: ET.Element | None
    to: str = ""
    extra: dict = field(default_factory=dict)

    def body_child(self, name: str) -> ET.Element | None:
        """First element ``rsp:<name>`` (shell namespace) or ``x:<name>`` under the body."""
        if self.body is None:
            return None
        return self.body.find(f"{{{NS['rsp']}}}{name}")


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text: str | None, default: float) -> float:
    """xs:duration as WS-Man uses it (PT20S, PT20.000S, PT1M30S) in seconds."""
    if not text:
        return default
    m = _DURATION.match(text.strip())
    if not m:
        return default
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _text(el: ET.Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def parse_request(data: bytes, max_envelope_bytes: int = MAX_ENVELOPE_BYTES,
                  max_timeout_seconds: float = MAX_TIMEOUT_SECONDS) -> WSManRequest:
    """The request; the client's MaxEnvelopeSize and OperationTimeout are capped at the host's MaxEnvelopeSizekb
    and MaxTimeoutms."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise invalid_xml() from None
    header = root.find("s:Header", NS)
    body = root.find("s:Body", NS)
    if root.tag != f"{{{NS['s']}}}Envelope" or header is None:
        raise invalid_xml()
    selectors = {sel.get("Name", ""): _text(sel) for sel in header.findall("w:SelectorSet/w:Selector", NS)}
    options = {opt.get("Name", ""): _text(opt) for opt in header.findall("w:OptionSet/w:Option", NS)}
    try:
        max_env = int(_text(header.find("w:MaxEnvelopeSize", NS)) or max_envelope_bytes)
    except ValueError:
        max_env = max_envelope_bytes
    timeout = parse_duration(_text(header.find("w:OperationTimeout", NS)), max_timeout_seconds)
    return WSManRequest(
        action=_text(header.find("a:Action", NS)),
        message_id=_text(header.find("a:MessageID", NS)),
        resource_uri=_text(header.find("w:ResourceURI", NS)),
        selectors=selectors,
        options=options,
        operation_timeout=min(timeout, max_timeout_seconds),
        # Windows caps the client's MaxEnvelopeSize at its own MaxEnvelopeSizekb.
        max_envelope_size=min(max_env, max_envelope_bytes),
        body=body,
        to=_text(header.find("a:To", NS)),
    )


# --- responses ----------------------------------------------------------------------------------------------

_ENVELOPE_OPEN = (
    '<s:Envelope xml:lang="en-US" xmlns:s="{s}" xmlns:a="{a}" xmlns:x="{x}" xmlns:w="{w}" xmlns:rsp="{rsp}" '
    'xmlns:p="{p}" xmlns:n="{n}">'.format(**NS)
)


def _envelope(action: str, relates_to: str, body: str) -> str:
    header = (
        f"<s:Header><a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
    )
    return f"{_ENVELOPE_OPEN}{header}<s:Body>{body}</s:Body></s:Envelope>"


def fault_envelope(fault: WSManFault, relates_to: str, machine: str) -> str:
    body = (
        f"<s:Fault><s:Code><s:Value>{fault.code}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>"
        f"</s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">{escape(fault.reason)}</s:Text></s:Reason>"
        f"<s:Detail>"
        + (f"<w:FaultDetail>{escape(fault.fault_detail)}</w:FaultDetail>" if fault.fault_detail else "")
        + f"<f:WSManFault xmlns:f=\"{NS['f']}\" Code=\"{fault.wsman_code}\" Machine={quoteattr(machine)}>"
        f"<f:Message>{escape(fault.message)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope(ACTION_FAULT, relates_to, body)


def _idle_timeout(seconds: float) -> str:
    """rsp:IdleTimeOut as Windows writes it: PT7200.000S."""
    return f"PT{seconds:.3f}S"


def create_response(req: WSManRequest, shell_id: str, address: str, owner: str, client_ip: str,
                    input_streams: str, output_streams: str, idle_timeout: float = 7200.0) -> str:
    """The CreateResponse; rsp:IdleTimeOut tells the client the host's IdleTimeout (MS-WSMV 2.2.4.37 Shell)."""
    body = (
        f"<x:ResourceCreated><a:Address>{escape(address)}</a:Address><a:ReferenceParameters>"
        f"<w:ResourceURI>{CMD_RESOURCE_URI}</w:ResourceURI><w:SelectorSet>"
        f"<w:Selector Name=\"ShellId\">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>"
        f"</x:ResourceCreated>"
        f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId><rsp:ResourceUri>{CMD_RESOURCE_URI}</rsp:ResourceUri>"
        f"<rsp:Owner>{escape(owner)}</rsp:Owner><rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP>"
        f"<rsp:IdleTimeOut>{_idle_timeout(idle_timeout)}</rsp:IdleTimeOut>"
        f"<rsp:InputStreams>{escape(input_streams)}</rsp:InputStreams>"
        f"<rsp:OutputStreams>{escape(output_streams)}</rsp:OutputStreams>"
        f"<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
        f"</rsp:Shell>"
    )
    return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", req.message_id, body)


def delete_response(req: WSManRequest) -> str:
    return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", req.message_id, "")


def command_response(req: WSManRequest, command_id: str) -> str:
    body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
    return _envelope(SHELL_URI + "/CommandResponse", req.message_id, body)


def send_response(req: WSManRequest) -> str:
    return _envelope(SHELL_URI + "/SendResponse", req.message_id, "<rsp:SendResponse/>")


def signal_response(req: WSManRequest) -> str:
    return _envelope(SHELL_URI + "/SignalResponse", req.message_id, "<rsp:SignalResponse/>")


def receive_response(req: WSManRequest, command_id: str, chunks: list[tuple[str, str]], done: bool,
                     exit_code: int | None) -> str:
    """chunks: (stream name, base64 text) in order; when done, both streams end and the exit code follows."""
    parts = ["<rsp:ReceiveResponse>"]
    for name, b64 in chunks:
        parts.append(f'<rsp:Stream Name="{name}" CommandId="{command_id}">{b64}</rsp:Stream>')
    if done:
        parts.append(f'<rsp:Stream Name="stdout" CommandId="{command_id}" End="true"></rsp:Stream>')
        parts.append(f'<rsp:Stream Name="stderr" CommandId="{command_id}" End="true"></rsp:Stream>')
        parts.append(f'<rsp:CommandState CommandId="{command_id}" State="{STATE_DONE}">'
                     f"<rsp:ExitCode>{exit_code if exit_code is not None else 0}</rsp:ExitCode></rsp:CommandState>")
    else:
        parts.append(f'<rsp:CommandState CommandId="{command_id}" State="{STATE_RUNNING}"></rsp:CommandState>')
    parts.append("</rsp:ReceiveResponse>")
    return _envelope(SHELL_URI + "/ReceiveResponse", req.message_id, "".join(parts))


def _duration(seconds: float) -> str:
    """xs:duration the way Windows writes ShellRunTime/ShellInactivity: P0DT0H1M5S."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"P{days}DT{hours}H{minutes}M{secs}S"


@dataclass
class ShellItem:
    """One rsp:Shell of an enumeration (the Shell data type of MS-WSMV 2.2.4.37)."""

    shell_id: str
    owner: str
    client_ip: str
    input_streams: str
    output_streams: str
    run_seconds: float
    idle_seconds: float
    state: str = "Connected"
    idle_timeout: float = 7200.0


def shell_item_xml(item: ShellItem) -> str:
    return (
        f"<rsp:Shell><rsp:ShellId>{escape(item.shell_id)}</rsp:ShellId>"
        f"<rsp:ResourceUri>{CMD_RESOURCE_URI}</rsp:ResourceUri><rsp:Owner>{escape(item.owner)}</rsp:Owner>"
        f"<rsp:ClientIP>{escape(item.client_ip)}</rsp:ClientIP>"
        f"<rsp:IdleTimeOut>{_idle_timeout(item.idle_timeout)}</rsp:IdleTimeOut>"
        f"<rsp:InputStreams>{escape(item.input_streams)}</rsp:InputStreams>"
        f"<rsp:OutputStreams>{escape(item.output_streams)}</rsp:OutputStreams>"
        f"<rsp:ShellRunTime>{_duration(item.run_seconds)}</rsp:ShellRunTime>"
        f"<rsp:ShellInactivity>{_duration(item.idle_seconds)}</rsp:ShellInactivity>"
        f"<rsp:State>{item.state}</rsp:State></rsp:Shell>"
    )


@dataclass
class EnumerateRequest:
    """What an Enumerate body asks: optimized (first items in the response) and how many items at most."""

    optimize: bool
    max_elements: int
    filtered: bool


def _enumeration_body(req: WSManRequest, tag: str) -> ET.Element:
    """The request's n:Enumerate, n:Pull or n:Release element; a body without it is invalid XML to WinRM."""
    body = req.body.find(tag, NS) if req.body is not None else None
    if body is None:
        raise invalid_xml()
    return body


def parse_enumerate(req: WSManRequest) -> EnumerateRequest:
    body = _enumeration_body(req, "n:Enumerate")
    optimize = body.find("w:OptimizeEnumeration", NS) is not None
    try:
        max_elements = int(_text(body.find("w:MaxElements", NS)) or 1)
    except ValueError:
        raise invalid_xml() from None
    filtered = body.find("w:Filter", NS) is not None or body.find("n:Filter", NS) is not None
    return EnumerateRequest(optimize=optimize, max_elements=max(1, max_elements), filtered=filtered)


def parse_pull(req: WSManRequest) -> tuple[str, int]:
    """(EnumerationContext, MaxElements) of a Pull; MaxElements defaults to 1 (DSP0226 8.4)."""
    body = _enumeration_body(req, "n:Pull")
    try:
        max_elements = int(_text(body.find("n:MaxElements", NS)) or 1)
    except ValueError:
        raise invalid_xml() from None
    return _text(body.find("n:EnumerationContext", NS)), max(1, max_elements)


def parse_release(req: WSManRequest) -> str:
    body = _enumeration_body(req, "n:Release")
    return _text(body.find("n:EnumerationContext", NS))


def enumerate_response(req: WSManRequest, context: str | None, items: list[ShellItem] | None) -> str:
    """EnumerateResponse: the context (absent once the sequence ended) and, when optimized, the first items."""
    parts = ["<n:EnumerateResponse>"]
    if context is not None:
        parts.append(f"<n:EnumerationContext>{escape(context)}</n:EnumerationContext>")
    if items is not None:
        parts.append("<w:Items>" + "".join(shell_item_xml(i) for i in items) + "</w:Items>")
        if context is None:
            parts.append("<w:EndOfSequence/>")
    parts.append("</n:EnumerateResponse>")
    return _envelope(ENUMERATION_URI + "/EnumerateResponse", req.message_id, "".join(parts))


def pull_response(req: WSManRequest, context: str | None, items: list[ShellItem]) -> str:
    parts = ["<n:PullResponse>"]
    if context is not None:
        parts.append(f"<n:EnumerationContext>{escape(context)}</n:EnumerationContext>")
    parts.append("<n:Items>" + "".join(shell_item_xml(i) for i in items) + "</n:Items>")
    if context is None:
        parts.append("<n:EndOfSequence/>")
    parts.append("</n:PullResponse>")
    return _envelope(ENUMERATION_URI + "/PullResponse", req.message_id, "".join(parts))


def release_response(req: WSManRequest) -> str:
    return _envelope(ENUMERATION_URI + "/ReleaseResponse", req.message_id, "")


# --- winrm/config (WS-Transfer Get) ---------------------------------------------------------------------------

def config_response(req: WSManRequest, host) -> str:
    """The GetResponse for winrm/config, winrm/config/service or winrm/config/winrs: the host's quotas, in the
    elements and namespaces of MS-WSMV's configuration schemas (2.2.4.42 WinrsType for winrs), so a client reads
    what it may use. A WMF 3.0 host with the memory bug reports the configured MaxMemoryPerShellMB: the bug is
    that the service does not apply it."""
    q = host.quotas
    winrs = (
        f"<cfg:AllowRemoteShellAccess>true</cfg:AllowRemoteShellAccess>"
        f"<cfg:IdleTimeout>{q.IdleTimeout}</cfg:IdleTimeout>"
        f"<cfg:MaxConcurrentUsers>{q.MaxConcurrentUsers}</cfg:MaxConcurrentUsers>"
        f"<cfg:MaxShellRunTime>2147483647</cfg:MaxShellRunTime>"
        f"<cfg:MaxProcessesPerShell>{q.MaxProcessesPerShell}</cfg:MaxProcessesPerShell>"
        f"<cfg:MaxMemoryPerShellMB>{q.MaxMemoryPerShellMB}</cfg:MaxMemoryPerShellMB>"
        f"<cfg:MaxShellsPerUser>{q.MaxShellsPerUser}</cfg:MaxShellsPerUser>"
    )
    service = (
        f"<cfg:MaxConcurrentOperationsPerUser>{q.MaxConcurrentOperationsPerUser}</cfg:MaxConcurrentOperationsPerUser>"
        f"<cfg:EnumerationTimeoutms>60000</cfg:EnumerationTimeoutms>"
        f"<cfg:AllowUnencrypted>false</cfg:AllowUnencrypted>"
    )
    uri = req.resource_uri.rstrip("/").lower()
    if uri == CONFIG_WINRS_URI:
        body = f'<cfg:Winrs xmlns:cfg="{CONFIG_WINRS_URI}">{winrs}</cfg:Winrs>'
    elif uri == CONFIG_SERVICE_URI:
        body = f'<cfg:Service xmlns:cfg="{CONFIG_SERVICE_URI}">{service}</cfg:Service>'
    else:
        body = (
            f'<cfg:Config xmlns:cfg="{CONFIG_URI}">'
            f"<cfg:MaxEnvelopeSizekb>{q.MaxEnvelopeSizekb}</cfg:MaxEnvelopeSizekb>"
            f"<cfg:MaxTimeoutms>{q.MaxTimeoutms}</cfg:MaxTimeoutms>"
            f"<cfg:MaxBatchItems>32000</cfg:MaxBatchItems>"
            f"<cfg:Service>{service}</cfg:Service><cfg:Winrs>{winrs}</cfg:Winrs></cfg:Config>"
        )
    return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse", req.message_id, body)
