# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # How every lync.migration module reaches the Lync server. When a task runs against an inventory host,
    # the action plugin fills these from the host's ordinary WinRM variables unless the task sets them.
    DOCUMENTATION = r"""
options:
  server:
    description:
      - Host name or address of the Lync Server 2013 server (or OCS 2007 R2 server) to run the cmdlets on.
      - Taken from C(ansible_host) (else the inventory name) when the task targets an inventory host.
      - "Required when the module runs with explicit options, for example from C(hosts: localhost) with
        C(module_defaults: group/lync.migration.lync)."
    type: str
  port:
    description:
      - WinRM port. Defaults to 5986 for C(https) and 5985 for C(http).
      - Taken from C(ansible_port).
    type: int
  scheme:
    description:
      - C(https) (WinRM over TLS) or C(http) (message encryption is used with ntlm, kerberos and credssp).
      - Taken from C(ansible_winrm_scheme).
    type: str
    choices: [http, https]
    default: https
  username:
    description:
      - Account used to authenticate, as C(DOMAIN\user) or C(user@domain). Taken from C(ansible_user).
    type: str
  password:
    description:
      - Password of O(username). Taken from C(ansible_password). Never logged.
    type: str
  transport:
    description:
      - WinRM authentication. C(basic) is refused over C(http) unless O(allow_basic_over_http=true).
      - C(credssp) and delegated C(kerberos) let cmdlets reach Active Directory and the Central Management
        Store from the server (the double hop); with C(ntlm) use O(cmdlet_credential) instead.
      - Taken from C(ansible_winrm_transport).
    type: str
    choices: [ntlm, kerberos, credssp, basic]
    default: ntlm
  server_cert_validation:
    description:
      - Whether the server's TLS certificate is validated. Taken from C(ansible_winrm_server_cert_validation).
    type: str
    choices: [validate, ignore]
    default: validate
  ca_trust_path:
    description:
      - PEM file or directory of CA certificates used to validate the server's certificate.
      - Taken from C(ansible_winrm_ca_trust_path).
    type: path
  operation_timeout:
    description:
      - WS-Management operation timeout in seconds. Taken from C(ansible_winrm_operation_timeout_sec).
    type: int
    default: 20
  read_timeout:
    description:
      - HTTP read timeout in seconds; must be greater than O(operation_timeout).
      - Taken from C(ansible_winrm_read_timeout_sec).
    type: int
    default: 30
  allow_basic_over_http:
    description:
      - Allow O(transport=basic) over O(scheme=http), which sends the password in clear text. For isolated
        test networks only.
    type: bool
    default: false
  kerberos_delegation:
    description:
      - Forward the Kerberos ticket so that cmdlets can make the second hop. Taken from
        C(ansible_winrm_kerberos_delegation).
    type: bool
    default: false
  message_encryption:
    description:
      - WinRM message encryption. C(auto) encrypts over C(http) when the transport supports it.
      - Taken from C(ansible_winrm_message_encryption).
    type: str
    choices: [auto, always, never]
    default: auto
  cmdlet_credential:
    description:
      - Pass O(username)/O(password) as C(-Credential) to the cmdlets that accept it. This is how the second
        hop works over C(ntlm) or C(basic), without CredSSP or Kerberos delegation.
    type: bool
    default: false
  connection_retries:
    description:
      - How many times a batch of cmdlet calls is sent again after a transient failure (connection reset,
        HTTP 5xx, WinRM operation timeout, shell quota, busy SQL back end), with exponential backoff and
        jitter. Errors that mean the request itself is wrong are never retried.
      - A change (C(Move-), C(Set-), ...) whose answer was lost is not sent again blindly; the module re-reads
        the state first. Each user's O(connection_retries)+1 sends at most show as C(attempts) in the results.
      - After a transport failure, read-only calls (C(Get-), C(Test-)) may be sent again up to
        3 x O(connection_retries) times, since repeating a read is harmless. O(connection_retries=0) turns
        both off.
      - Below this, each single WinRM request that is safe to repeat is re-sent up to 4 times (fixed) before
        the batch counts as failed. These are a Receive polled again on the same command, a Send, Signal or
        Delete, a shell Create the server refused, and the Command of a read-only batch. After a broken
        connection it is authenticated again.
      - When the server reports MaxShellsPerUser, shells whose Delete failed earlier are closed first. Then
        the account's shells that no thread of this run uses and that have been idle for at least 60 seconds
        (and twice O(read_timeout)) are deleted, found with WS-Man Enumerate. Only C(cmd) shells (WinRS) are
        listed, never PowerShell remoting sessions.
    type: int
    default: 3
notes:
  - The module runs on the controller and reaches the server over WinRM; the server needs no Python.
  - Every cmdlet call travels as data inside one fixed PowerShell script, see the collection's docs/envelope.md.
"""
