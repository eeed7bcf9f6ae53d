"""What the recorded transcripts are: each case a lab stage (contoso-small) and the module runs, in order, whose
requests and the lab's answers tests/unit/transcripts/<case>.json keeps. The unit tests replay them
(tests/unit/plugins/modules/test_modules_replayed.py); tests/integration/modules/record_transcripts.py records
them. ``{tmp}`` in an argument is the test's temporary directory."""

MOVE = "cs_user_move"

CASES = {
    "user_info_identities": {"stage": 6, "steps": [
        {"module": "cs_user_info",
         "args": {"identities": ["David Pelton", "sip:ana.trujillo@contoso.net", "Nobody", " Hao Chen", ""]}}]},
    "user_info_pools": {"stage": 6, "steps": [
        {"module": "cs_user_info", "args": {"legacy_only": True}},
        {"module": "cs_user_info", "args": {"registrar_pool": "POOL02.contoso.net"}}]},
    "move_check_mode": {"stage": 6, "steps": [
        {"module": MOVE, "check_mode": True, "diff": True,
         "args": {"identities": ["David Pelton", "sip:ana.trujillo@contoso.net"], "target_pool": "pool02.contoso.net"}}]},
    "move_run_and_rerun": {"stage": 6, "steps": [
        {"module": MOVE, "args": {"identities": ["David Pelton", "Hao Chen", "sip:ana.trujillo@contoso.net"],
                                  "target_pool": "pool02.contoso.net", "exclude_policies": ["dial_plan", "voice"],
                                  "batch_size": 1, "parallelism": 2, "journal": "{tmp}/moves.jsonl"}},
        {"module": MOVE, "args": {"identities": ["David Pelton", "Hao Chen"], "target_pool": "pool02.contoso.net"}}]},
    "move_back_to_the_legacy_pool": {"stage": 6, "steps": [
        {"module": MOVE, "args": {"identities": ["Ana Trujillo"], "target_pool": "pool01.contoso.net",
                                  "move_conference_data": True}}]},
    "move_invalid_identities": {"stage": 6, "steps": [
        {"module": MOVE, "args": {"identities": ["David Pelton", "Nobody", "Hao Chen ", " Katie Jordan"],
                                  "target_pool": "pool02.contoso.net"}}]},
    "move_skip_invalid": {"stage": 6, "steps": [
        {"module": MOVE, "args": {"identities": ["David Pelton", "Nobody"], "target_pool": "pool02.contoso.net",
                                  "on_invalid": "skip"}}]},
    "move_to_unknown_pool": {"stage": 6, "steps": [
        {"module": MOVE, "args": {"identities": ["David Pelton"], "target_pool": "pool09.contoso.net"}}]},
    "pool_info": {"stage": 6, "steps": [
        {"module": "cs_pool_info", "args": {}},
        {"module": "cs_pool_info", "args": {"identity": "nope.contoso.net"}}]},
    "replication_info": {"stage": 6, "steps": [{"module": "cs_replication_info", "args": {}}]},
    "object_info": {"stage": 6, "steps": [
        {"module": "cs_object_info", "args": {"cmdlet": "Get-CsUser", "parameters": {"Identity": "Hao Chen"},
                                              "properties": ["SipAddress", "RegistrarPool"]}}]},
    "conferencing_policy": {"stage": 6, "steps": [
        {"module": "cs_conferencing_policy", "check_mode": True, "diff": True,
         "args": {"identity": "Global", "allow_anonymous_participants_in_meetings": False}},
        {"module": "cs_conferencing_policy",
         "args": {"identity": "Global", "allow_anonymous_participants_in_meetings": False}},
        {"module": "cs_conferencing_policy",
         "args": {"identity": "Global", "allow_anonymous_participants_in_meetings": False}}]},
}
