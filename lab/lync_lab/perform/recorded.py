"""`lync-lab perform` steps nothing in the lab models: the guided step is confirmed and recorded, the state is left
as it is."""

from __future__ import annotations

from .registry import step


def confirm_only(what: str):
    def run(tx, fqdn: str | None) -> dict:  # noqa: ARG001 - same signature as the others
        return {"changed": False, "detail": f"{what}: nothing in the lab models it; recorded only"}
    return run


step("ocs-updates", needs_server=False, help="P2.1: recorded only")(confirm_only("P2.1 OCS 2007 R2 updates"))
step("bpa", needs_server=False, help="P2.3: recorded only")(confirm_only("P2.3 Best Practices Analyzer"))
step("backup", needs_server=False, help="P2.4: recorded only")(confirm_only("P2.4 backup"))
step("ocs-client-version-filter", needs_server=False,
     help="P2.5: recorded only")(confirm_only("P2.5 client version filtering"))
# The legacy Edge's internal authorization list is not modelled; the confirmation is what the lab records.
step("authorize-lync-on-legacy-edge", needs_server=False,
     help="P5.2: recorded only")(confirm_only("P5.2 authorize the Lync servers on the legacy Edge"))
