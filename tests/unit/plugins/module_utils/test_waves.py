"""The wave and option checks Phase 1 and Phase 6 share (plugins/module_utils/lync/waves.py, filters in
plugins/filter/waves.py)."""

import base64

import pytest
from ansible_collections.lync.migration.plugins.filter import migration, waves as wave_filters
from ansible_collections.lync.migration.plugins.module_utils.lync import option_checks, waves


def problems(defs, **kw):
    return waves.check_waves(defs, **kw)["problems"]


def test_good_waves_have_no_problem_and_keep_their_identities():
    result = waves.check_waves([{"name": "test", "identities": ["David Pelton"]},
                                {"name": "pilot-2 Helpdesk_1", "ou": "OU=Sales,DC=contoso,DC=net"}])
    assert result["problems"] == []
    assert [w["name"] for w in result["waves"]] == ["test", "pilot-2 Helpdesk_1"]
    assert result["waves"][0]["identities"] == ["David Pelton"]


@pytest.mark.parametrize("name, fragment", [
    ("IT/Helpdesk", '"/"'), ("IT\\Helpdesk", '"\\\\"'), ("..", "'..'"), ("a..b", "'..'"), ("wave\ttab", "control"),
    (" test", "leading whitespace"), ("test ", "trailing whitespace"), ("", "no name"), ("x.rollback", ".rollback"),
    ("a:b", '":"'), ("-x", "start with a letter"), ("w" * 65, "at most 64")])
def test_a_wave_name_that_is_not_safe_in_a_path_is_refused_saying_which_characters_are_allowed(name, fragment):
    found = problems([{"name": name, "identities": ["David Pelton"]}])
    assert len(found) == 1 and fragment in found[0], found
    if fragment not in ("no name",):
        assert "lync_migration_waves[0]" in found[0]


def test_the_fix_for_a_slash_is_suggested():
    found = problems([{"name": "IT/Helpdesk", "identities": ["a"]}])
    assert '"IT-Helpdesk"' in found[0] and "letters, digits" in found[0]


def test_two_waves_of_one_name_are_refused_case_insensitively():
    found = problems([{"name": "test", "identities": ["a"]}, {"name": "Test", "identities": ["b"]}])
    assert len(found) == 1 and "used twice" in found[0] and "share a journal" in found[0]


def test_identities_as_one_string_names_identities_of_that_wave():
    found = problems([{"name": "pilot", "identities": "Katie Jordan"}])
    assert found == ['Wave pilot: identities is one string ("Katie Jordan"); give a list, one user per item: '
                     'identities: ["Katie Jordan"]']


def test_waves_given_as_a_string_or_a_wave_as_a_string():
    assert "must be a list of waves" in problems("test")[0]
    assert "not a wave" in problems(["test"])[0]


def test_a_missing_or_unreadable_csv_names_the_wave_and_the_path(tmp_path):
    found = problems([{"name": "pilot", "csv": "pilot.csv"}], base_dir=str(tmp_path))
    assert found == ["Wave pilot: its csv file %s does not exist (a relative path is relative to the inventory "
                     "directory, %s); check the path in the wave's csv" % (tmp_path / "pilot.csv", tmp_path)]
    (tmp_path / "dir.csv").mkdir()
    assert "is a directory" in problems([{"name": "pilot", "csv": str(tmp_path / "dir.csv")}])[0]


def test_a_csv_with_only_its_header_is_an_empty_wave_unless_allowed(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(b"\xef\xbb\xbfidentity,note\r\n")
    found = problems([{"name": "csvwave", "csv": str(path)}])
    assert len(found) == 1 and "csvwave" in found[0] and str(path) in found[0] and "move_users_allow_empty: true" in found[0]
    assert problems([{"name": "csvwave", "csv": str(path)}], allow_empty=True) == []
    assert "empty (no users)" in problems([{"name": "t", "identities": []}])[0]


@pytest.mark.parametrize("raw", [
    "identity,note\r\nDavid Pelton,x\r\n".encode("utf-8-sig"),
    "identity;note\r\nDavid Pelton;x\r\n".encode("utf-8-sig"),
    "identity\tnote\r\nDavid Pelton\tx\r\n".encode("utf-16"),
    '#TYPE System.Management.Automation.PSCustomObject\r\n"identity","note"\r\n"David Pelton","x"\r\n'.encode("utf-8"),
    '"identity","note"\r\n"David Pelton","x"\r\n'.encode("utf-16"),
])
def test_csv_as_excel_and_powershell_write_it(raw):
    assert waves.parse_identity_csv(raw, "w.csv") == ["David Pelton"]


def test_csv_values_are_kept_as_written_and_bad_encodings_named():
    assert waves.parse_identity_csv("identity\nKen Myer \n\n".encode("utf-8"), "w.csv") == ["Ken Myer "]
    with pytest.raises(waves.WaveInputError, match="w.csv is not UTF-8 .*line 2.*Export-Csv -Encoding UTF8"):
        waves.parse_identity_csv("identity\nJosé\n".encode("latin-1"), "w.csv")
    with pytest.raises(waves.WaveInputError, match="no 'identity' column"):
        waves.parse_identity_csv(b"name\nx\n", "w.csv")
    with pytest.raises(waves.WaveInputError, match="is empty"):
        waves.parse_identity_csv(b"", "w.csv")


def test_the_migration_filter_reads_csv_through_the_same_rule():
    content = base64.b64encode("identity;x\r\nHao Chen;1\r\n".encode("utf-8-sig")).decode()
    assert migration.identities_from_csv(content, "w.csv") == ["Hao Chen"]


def test_only_the_selected_waves_have_their_files_checked_but_every_name_is(tmp_path):
    defs = [{"name": "test", "identities": ["a"]}, {"name": "later", "csv": str(tmp_path / "not-yet.csv")},
            {"name": "bad/name", "identities": ["b"]}]
    result = waves.check_waves(defs, selected=["test"])
    assert len(result["problems"]) == 1 and "bad/name" in result["problems"][0]
    assert [w["name"] for w in result["waves"]] == ["test"]


def test_move_users_waves_as_a_string_shows_the_json_form():
    found = waves.selected_wave_problems("test", ["test", "pilot"])
    assert found == ['move_users_waves is a string ("test"); it must be a list of wave names. On the command line '
                     'give it as JSON: -e \'{"move_users_waves": ["test"]}\'']
    assert '["test", "pilot"]' in waves.selected_wave_problems("test,pilot")[0]
    assert "No wave is named tset" in waves.selected_wave_problems(["tset"], ["test", "pilot"])[0]
    assert '"/"' in waves.selected_wave_problems(["../x"])[0] or "'..'" in waves.selected_wave_problems(["../x"])[0]


def test_one_user_under_two_names_in_two_waves_is_found_once_resolved():
    directory = [{"PrimaryURI": "sip:david.pelton@contoso.net", "DisplayName": "David Pelton",
                  "UserDN": "CN=David Pelton,OU=Users,DC=contoso,DC=net"},
                 {"PrimaryURI": "sip:hao.chen@contoso.net", "DisplayName": "Hao Chen"}]
    checked = [{"name": "a", "identities": ["David Pelton", "Hao Chen"]},
               {"name": "b", "identities": ["sip:david.pelton@contoso.net"]}, {"name": "c", "identities": ["hao chen"]}]
    resolved = waves.resolve_against(checked, directory)
    found = waves.overlap_messages(waves.wave_overlaps(resolved))
    assert found == [
        'sip:david.pelton@contoso.net is in more than one wave: a as "David Pelton", b as '
        '"sip:david.pelton@contoso.net" (the same user under different names); keep the user in one wave only',
        # Differing only in case is one name, written twice.
        'sip:hao.chen@contoso.net is in more than one wave: a, c; keep the user in one wave only']
    # An identity no user answers to keeps its own name as its key.
    assert waves.resolve_against([{"name": "a", "identities": ["Nobody"]}], directory) == \
        {"a": [{"identity": "Nobody", "sip_address": "Nobody"}]}


def test_the_phase6_overlap_filter_is_the_same_function():
    users = {"a": [{"sip_address": "sip:x@contoso.net"}], "b": [{"sip_address": "SIP:X@contoso.net"}]}
    assert migration.wave_overlaps(users)[0]["waves"] == ["a", "b"]


@pytest.mark.parametrize("value, ok", [(1, True), (1000, True), ("100", True), (0, False), (1001, False),
                                       ("-5", False), ("many", False), (True, False), (None, False)])
def test_batch_size_range(value, ok):
    problem = option_checks.int_option_problem("move_users_batch_size", value, 1, 1000, "users per PowerShell process")
    assert (problem is None) == ok
    if not ok:
        assert "move_users_batch_size" in problem and "1 to 1000" in problem


@pytest.mark.parametrize("value, ok", [("auto", True), (1, True), ("25", True), (0, False), (100, False),
                                       ("Auto", False), ("four", False)])
def test_parallelism_range(value, ok):
    problem = option_checks.parallelism_problem("move_users_parallelism", value)
    assert (problem is None) == ok
    if not ok:
        assert "use auto or " in problem and "1 to 25" in problem


def test_policy_names_from_memory_are_refused_naming_the_valid_names():
    problem = option_checks.choice_list_problem("lync_migration_policies_to_keep", ["archiving", "conference"])
    assert '"conference" (did you mean conferencing?)' in problem
    assert "archiving, conferencing, dial_plan, external_access, presence, voice" in problem
    assert option_checks.choice_list_problem("x", list(option_checks.POLICY_NAMES)) is None
    assert "is a string" in option_checks.choice_list_problem("x", "voice")


def test_an_fqdn_with_a_trailing_space_is_refused_saying_so():
    problem = option_checks.fqdn_problem("lync_migration_pilot_pool", "pool02.contoso.net ")
    assert problem == ('lync_migration_pilot_pool ("pool02.contoso.net ") has trailing whitespace; write the FQDN '
                       'without it, e.g. "pool02.contoso.net"')
    assert option_checks.fqdn_problem("p", "pool02.contoso.net") is None
    assert "not an FQDN" in option_checks.fqdn_problem("p", "https://pool02")


def test_a_directory_that_cannot_be_created_is_found_before_anything_moves(tmp_path):
    (tmp_path / "file").write_text("x")
    problem = option_checks.writable_dir_problem("move_users_report_dir", str(tmp_path / "file" / "reports"))
    assert "move_users_report_dir" in problem and "is a file" in problem
    assert option_checks.writable_dir_problem("move_users_report_dir", str(tmp_path / "new" / "reports")) is None


def test_option_problems_filter_runs_each_rule():
    found = wave_filters.option_problems([
        {"option": "move_users_batch_size", "value": "0", "rule": "int", "low": 1, "high": 1000, "unit": "users"},
        {"option": "move_users_parallelism", "value": "auto", "rule": "parallelism"},
        {"option": "lync_migration_policies_to_keep", "value": ["meeting"], "rule": "choices"}])
    assert len(found) == 2 and "move_users_batch_size is 0" in found[0]
    with pytest.raises(Exception, match="unknown rule"):
        wave_filters.option_problems([{"option": "x", "rule": "nope"}])
