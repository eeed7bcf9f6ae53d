"""The identity rule in one place (module_utils/lync/identity.py) and what cs_user_info builds on it: each user's
names checked (name_problems), and one sentence per identity that found no single user (users.lookup_problems)."""

from ansible_collections.lync.migration.plugins.filter.migration import spaced, text_problem
from ansible_collections.lync.migration.plugins.module_utils.lync.identity import account_name_problems
from ansible_collections.lync.migration.plugins.module_utils.lync.users import lookup_problems, user_lookup_call


def test_each_name_of_a_user_is_checked_and_unset_names_are_not():
    user = {"display_name": "Ken Myer ", "sam_account_name": "kmyer", "user_principal_name": None,
            "sip_address": "sip:ken.myer@contoso.net"}
    problems = account_name_problems(user)
    assert list(problems) == ["display_name"]
    assert "trailing whitespace in 'Ken Myer '" in problems["display_name"][0]
    # Every problem of a name, in the rule's order; an empty name is a user without one, not a problem.
    found = account_name_problems({"display_name": "", "sam_account_name": " k\x01"})
    assert list(found) == ["sam_account_name"]
    assert [p.split(" in ")[0] for p in found["sam_account_name"]] == ["leading whitespace", "control character U+0001"]


def test_lookup_problems_name_the_identity_as_json_and_the_fix_in_a_fixed_order():
    problems = lookup_problems([{"identity": "Ken Myer ", "reason": "trailing whitespace in 'Ken Myer '"}],
                               ["José Nobody"], [{"identity": "Chen", "message": "2 users match"}])
    assert [(p["identity"], p["reason"]) for p in problems] == [
        ("Ken Myer ", "malformed"), ("José Nobody", "not_found"), ("Chen", "ambiguous")]
    assert problems[0]["message"] == '"Ken Myer " is malformed: trailing whitespace in \'Ken Myer \''
    # Non-ASCII is escaped as Ansible's to_json did when the role built these sentences itself.
    assert problems[1]["message"].startswith('"Jos\\u00e9 Nobody" was not found by Get-CsUser')
    assert problems[2]["message"].endswith("(2 users match); name the user by SIP address instead")


def test_a_resolved_user_is_read_by_its_address_and_keeps_its_name_as_the_calls_id():
    call = user_lookup_call("David Pelton", "sip:david.pelton@contoso.net")
    assert call.params == {"Identity": "sip:david.pelton@contoso.net"} and call.id == "David Pelton"
    assert user_lookup_call("Hao Chen").params == {"Identity": "Hao Chen"}


def test_the_filters_give_the_rules_reason_for_text_and_nothing_for_other_values():
    assert text_problem("pool02.contoso.net ") == "trailing whitespace"
    assert text_problem("pool\x0702") == "control character U+0007"
    assert text_problem(5) is None and text_problem("ok") is None
    assert spaced(" C:\\Work") and spaced("   ") and not spaced("") and not spaced(None) and not spaced("a\x01")
