"""An MIT Kerberos KDC on 127.0.0.1 for the tests: realm CONTOSO.NET, the lab account as a principal, the lab's
WinRM listener as the service HTTP/127.0.0.1 with a keytab, a forwardable ticket for the client."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

REALM = "CONTOSO.NET"
KDC_BINARIES = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")


def missing_binaries() -> list[str]:
    found = {name: shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name)
                                               if p.exists()), None) for name in KDC_BINARIES}
    return [name for name, path in found.items() if not path]


def _bin(name: str) -> str:
    return shutil.which(name) or next(str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackKDC:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.conf = self.root / "krb5.conf"
        self.kdc_conf = self.root / "kdc.conf"
        self.keytab = self.root / "http.keytab"
        self.ccache = self.root / "ccache"
        self.proc: subprocess.Popen | None = None

    @property
    def env(self) -> dict:
        """What both the lab (acceptor) and the client need in their environment."""
        return {"KRB5_CONFIG": str(self.conf), "KRB5_KDC_PROFILE": str(self.kdc_conf),
                "KRB5CCNAME": "FILE:%s" % self.ccache, "KRB5_KTNAME": "FILE:%s" % self.keytab}

    def _run(self, *cmd: str, stdin: str | None = None) -> None:
        import os
        proc = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True,
                              env=dict(os.environ, **self.env), timeout=60)
        if proc.returncode != 0:
            raise RuntimeError("%s failed: %s%s" % (" ".join(cmd[:3]), proc.stdout, proc.stderr))

    def start(self, password: str, user: str = "lyncadmin", services: tuple = ("HTTP/127.0.0.1",)) -> "LoopbackKDC":
        import os
        self.conf.write_text(f"""[libdefaults]
  default_realm = {REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  forwardable = true
  udp_preference_limit = 1
[realms]
  {REALM} = {{
    kdc = 127.0.0.1:{self.port}
  }}
[domain_realm]
  127.0.0.1 = {REALM}
""")
        self.kdc_conf.write_text(f"""[kdcdefaults]
  kdc_tcp_listen = 127.0.0.1:{self.port}
  kdc_listen = 127.0.0.1:{self.port}
[realms]
  {REALM} = {{
    database_name = {self.root / 'principal'}
    key_stash_file = {self.root / 'stash'}
    acl_file = {self.root / 'kadm5.acl'}
    max_life = 10h
    max_renewable_life = 1d
  }}
[logging]
  kdc = FILE:{self.root / 'kdc.log'}
""")
        (self.root / "kadm5.acl").write_text("")
        self._run(_bin("kdb5_util"), "create", "-s", "-r", REALM, "-P", "kdc-master-key-for-tests")
        self._run(_bin("kadmin.local"), "-r", REALM, "-q", "addprinc -pw %s %s" % (password, user))
        for spn in services:
            # ok_as_delegate: clients may forward their TGT to this service (like a trusted Front End).
            self._run(_bin("kadmin.local"), "-r", REALM, "-q", "addprinc -randkey +ok_as_delegate %s" % spn)
            self._run(_bin("kadmin.local"), "-r", REALM, "-q", "ktadd -k %s %s" % (self.keytab, spn))
        self.proc = subprocess.Popen([_bin("krb5kdc"), "-n", "-r", REALM], env=dict(os.environ, **self.env),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("krb5kdc did not start")
                time.sleep(0.1)
        return self

    def kinit(self, password: str, user: str = "lyncadmin") -> None:
        """A forwardable TGT in the test's ccache (the password read from stdin, never on a command line)."""
        self._run(_bin("kinit"), "-f", "%s@%s" % (user, REALM), stdin=password + "\n")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
