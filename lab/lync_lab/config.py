"""The options of `lync-lab serve`, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class LabConfig:
    scenario: str = "contoso-small"
    stage: int = 1
    state_dir: Path = Path(".lab")
    listen: str = "127.0.0.1"
    http_port: int = 55985
    https_port: int = 55986
    port_offset: int = 0           # added to every other server's scenario ports (several labs on one machine)
    latency: str = "none"          # none | realistic | path to a latency YAML file
    time_scale: float = 1.0        # multiplies every modelled delay (0.01 = a hundred times faster)
    faults: str | None = None      # e.g. "http500=0.05,reset=0.05,slow=0.05,quota=0.05,cmdlet=0.05,seed=7"
    double_hop: bool = False       # NTLM/Basic sessions cannot reach AD/CMS without -Credential
    keep_state: bool = False       # reuse an existing state directory instead of seeding anew
    dns_port: int | None = None    # the lab's DNS server (UDP+TCP) on listen:dns_port; None = no DNS server
