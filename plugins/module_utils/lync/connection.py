# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options, written once (CONNECTION_OPTIONS), and their validation (ConnectionOptions)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The connection options, once: each option's argument spec and the inventory variables that fill it (the
# first one set wins) when a task addresses a WinRM host. The modules' argument spec (module.py), ConnectionOptions'
# defaults and the action plugin's host-variable map are derived from it; tests check that the doc fragment
# (plugins/doc_fragments/connection.py) says the same.
CONNECTION_OPTIONS = (
    ("server", dict(type="str"), ("ansible_host",)),
    ("port", dict(type="int"), ("ansible_port", "ansible_winrm_port")),
    ("scheme", dict(type="str", choices=["http", "https"], default="https"), ("ansible_winrm_scheme",)),
    ("username", dict(type="str"), ("ansible_user", "ansible_winrm_user")),
    ("password", dict(type="str", no_log=True), ("ansible_password", "ansible_winrm_password")),
    ("transport", dict(type="str", choices=["ntlm", "kerberos", "credssp", "basic"], default="ntlm"),
     ("ansible_winrm_transport",)),
    ("server_cert_validation", dict(type="str", choices=["validate", "ignore"], default="validate"),
     ("ansible_winrm_server_cert_validation",)),
    ("ca_trust_path", dict(type="path"), ("ansible_winrm_ca_trust_path",)),
    ("operation_timeout", dict(type="int", default=20), ("ansible_winrm_operation_timeout_sec",)),
    ("read_timeout", dict(type="int", default=30), ("ansible_winrm_read_timeout_sec",)),
    ("allow_basic_over_http", dict(type="bool", default=False), ()),
    ("kerberos_delegation", dict(type="bool", default=False), ("ansible_winrm_kerberos_delegation",)),
    ("message_encryption", dict(type="str", choices=["auto", "always", "never"], default="auto"),
     ("ansible_winrm_message_encryption",)),
    ("cmdlet_credential", dict(type="bool", default=False), ()),
    ("connection_retries", dict(type="int", default=3), ()),
)
CONNECTION_OPTION_NAMES = tuple(name for name, _spec, _hostvars in CONNECTION_OPTIONS)
CONNECTION_ARGUMENT_SPEC = dict((name, spec) for name, spec, _hostvars in CONNECTION_OPTIONS)
# option -> inventory variables, for the action plugin
HOSTVAR_OPTIONS = tuple((name, hostvars) for name, _spec, hostvars in CONNECTION_OPTIONS if hostvars)


class ConnectionOptionError(ValueError):
    """A connection option is wrong; ``option`` names it and the message says the fix."""

    def __init__(self, option, message):
        super(ConnectionOptionError, self).__init__(message)
        self.option = option


class ConnectionOptions:
    """Validated connection settings (plain values; the password is kept out of repr)."""

    def __init__(self, **values):
        unknown = sorted(set(values) - set(CONNECTION_OPTION_NAMES))
        if unknown:
            raise TypeError("unknown connection options: %s" % ", ".join(unknown))
        for name, spec, _hostvars in CONNECTION_OPTIONS:   # unset (None) options take the spec's default
            value = values.get(name)
            setattr(self, name, spec.get("default") if value is None else value)
        self.port = self.port or (5986 if self.scheme == "https" else 5985)
        for name, spec, _hostvars in CONNECTION_OPTIONS:
            if spec["type"] == "bool":
                setattr(self, name, bool(getattr(self, name)))
        self.validate()

    @classmethod
    def from_params(cls, params):
        return cls(**dict((name, params.get(name)) for name in CONNECTION_OPTION_NAMES))

    def validate(self):
        if not self.server:
            raise ConnectionOptionError(
                "server", "server is required: target an inventory host (its ansible_host is used) or set server "
                          "(for example with module_defaults for group/lync.migration.lync)")
        for name, spec, _hostvars in CONNECTION_OPTIONS:   # the spec's choices, also when built without Ansible
            if spec.get("choices") and getattr(self, name) not in spec["choices"]:
                raise ConnectionOptionError(name, "%s must be one of %s, got %r"
                                            % (name, ", ".join(spec["choices"]), getattr(self, name)))
        if self.transport == "basic" and self.scheme == "http" and not self.allow_basic_over_http:
            raise ConnectionOptionError(
                "transport", "transport=basic over scheme=http would send the password in clear text: use "
                             "scheme=https, or transport=ntlm (encrypted over http), or set "
                             "allow_basic_over_http=true on an isolated test network")
        if self.transport != "kerberos" and not (self.username and self.password is not None):
            raise ConnectionOptionError(
                "username", "transport=%s needs username and password (ansible_user/ansible_password on the "
                            "host, or the username/password options)" % self.transport)
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ConnectionOptionError("port", "port must be between 1 and 65535, got %r" % (self.port,))
        if self.operation_timeout < 1:
            raise ConnectionOptionError("operation_timeout", "operation_timeout must be at least 1 second")
        if self.read_timeout <= self.operation_timeout:
            raise ConnectionOptionError(
                "read_timeout", "read_timeout (%d) must be greater than operation_timeout (%d): the server may hold "
                                "a Receive for the whole operation timeout; for example read_timeout=%d"
                                % (self.read_timeout, self.operation_timeout, self.operation_timeout + 10))
        if self.message_encryption == "never" and self.scheme == "http" and self.transport != "basic":
            raise ConnectionOptionError(
                "message_encryption", "message_encryption=never over http would expose every request: use "
                                      "scheme=https or message_encryption=auto")
        if self.connection_retries < 0 or self.connection_retries > 10:
            raise ConnectionOptionError("connection_retries", "connection_retries must be between 0 and 10")
        if self.cmdlet_credential and not (self.username and self.password):
            raise ConnectionOptionError(
                "cmdlet_credential", "cmdlet_credential=true needs username and password to build -Credential")

    @property
    def endpoint(self):
        return "%s://%s:%d/wsman" % (self.scheme, self.server, self.port)

    @property
    def credential(self):
        """(username, password) for -Credential when cmdlet_credential is on, else None."""
        if self.cmdlet_credential:
            return (self.username, self.password)
        return None

    def __repr__(self):
        return "ConnectionOptions(endpoint=%r, transport=%r, username=%r)" % (
            self.endpoint, self.transport, self.username)
