"""`lync-lab perform` steps that change users: their meetings (a rehearsal aid) and their AD account names (before
P8.2). Their effects are the model functions stage seeding uses (model/users.py, model/late_phases.py)."""

from __future__ import annotations

from .registry import scenario_of, step


@step("schedule-lync-meetings", needs_server=False,
      help="rehearsal: users on Lync pools (or --server POOL) schedule one meeting each on Lync, which a rollback "
           "to OCS 2007 R2 loses")
def schedule_lync_meetings(tx, pool: str | None) -> dict:
    """Users at work on the pilot: every user homed on a Lync Server 2013 pool (or on --server, a pool FQDN)
    schedules one meeting there, as Outlook does once the user is on Lync. Rehearse a rollback after it to see
    what moving those users back to OCS 2007 R2 costs (their Lync meetings must be rescheduled)."""
    from ..model import users as U

    made = 0
    for _key, doc in tx.query("user"):
        if doc.get("OnOcs") or not doc.get("RegistrarPool"):
            continue
        if pool and doc["RegistrarPool"].lower() != pool.lower():
            continue
        if any(c.get("origin") == "lync" for _k, c in U.conferences_of(tx, doc)):
            continue
        conf = U.new_lync_conference(doc, 0)
        tx.put("conference", f"{doc['SamAccountName']}/{conf['ConferenceId']}", conf)
        made += 1
    where = pool or "every Lync Server 2013 pool"
    return {"changed": bool(made), "detail": f"{made} users of {where} scheduled a meeting on Lync"}


@step("fix-account-names", needs_server=False,
      help="before P8.2: remove leading/trailing spaces from legacy users' names in AD")
def fix_account_names(tx, fqdn: str | None) -> dict:  # noqa: ARG001 - an AD change, on no particular server
    from ..model import late_phases

    fixed = late_phases.fix_account_names(tx, scenario_of(tx).netbios)
    if not fixed:
        return {"changed": False, "detail": "no legacy account has leading or trailing spaces in its name"}
    return {"changed": True, "detail": "corrected in AD the names of " + ", ".join(fixed)}
