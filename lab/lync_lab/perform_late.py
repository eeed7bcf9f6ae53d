"""`lync-lab perform` steps of Phases 8-10 (registered in perform.STEPS): the manual steps whose effect later
phases depend on. Their effects are the model functions stage seeding uses (model/late_phases.py)."""

from __future__ import annotations


def _scenario(tx):
    from .model.scenario import load_scenario

    return load_scenario(tx.meta_get("scenario"))


def fix_account_names(tx, fqdn: str | None) -> dict:  # noqa: ARG001 - an AD change, on no particular server
    from .model import late_phases

    fixed = late_phases.fix_account_names(tx, _scenario(tx).netbios)
    if not fixed:
        return {"changed": False, "detail": "no legacy account has leading or trailing spaces in its name"}
    return {"changed": True, "detail": "corrected in AD the names of " + ", ".join(fixed)}


def uninstall_ocs(tx, fqdn: str) -> dict:
    from .model import late_phases, servers
    from .perform import PerformError

    doc = servers.get(tx, fqdn)
    if doc is None or not doc["Role"].startswith("ocs_"):
        raise PerformError(f"{fqdn} is not an OCS 2007 R2 server of this lab")
    if doc["Role"] in ("ocs_frontend", "ocs_standard"):
        homed = [d.get("SipAddress") for _k, d in tx.query("user") if d.get("OnOcs")]
        if homed:
            raise PerformError(f"{fqdn} still homes {len(homed)} users (first: {homed[0]}); the OCS documents "
                               "require an empty pool before it is removed (move them first, Phase 8)")
    removed = late_phases.uninstall_ocs(tx, fqdn)
    if not removed:
        return {"changed": False, "detail": f"no OCS 2007 R2 component left on {fqdn}"}
    return {"changed": True, "detail": f"removed {', '.join(removed)} from {fqdn}"}


STEPS = {
    "fix-account-names": (fix_account_names, False,
                          "before P8.2: remove leading/trailing spaces from legacy users' names in AD"),
    "uninstall-ocs": (uninstall_ocs, True, "P10.3: decommission the OCS 2007 R2 server --server"),
}
