"""The envelope's named results and expand, as the request carries them (docs/envelope.md)."""

from ansible_collections.lync.migration.plugins.module_utils.lync import envelope
from ansible_collections.lync.migration.plugins.module_utils.lync.envelope import Call, build_request, result_of


def test_name_and_expand_travel_only_when_set():
    request = build_request([
        Call("New-CsStaticRoute", {"TCPRoute": True, "Destination": "gw", "Port": 5060, "MatchUri": "x"}, name="r"),
        Call("Set-CsStaticRoutingConfiguration", {"Route": {"Add": result_of("r")}}),
        Call("Get-CsStaticRoutingConfiguration", expand="Route"),
        Call("Get-CsPool"),
    ])
    calls = request["calls"]
    assert calls[0]["name"] == "r" and "expand" not in calls[0]
    assert calls[1]["params"] == {"Route": {"Add": {"result_of": "r"}}} and "name" not in calls[1]
    assert calls[2]["expand"] == "Route" and "name" not in calls[2]
    assert set(calls[3]) == {"id", "cmdlet", "params", "pass_credential"}


def test_the_script_keeps_named_results_and_resolves_them_in_parameters():
    script = envelope.ENVELOPE_SCRIPT
    # $R holds the named results; H swaps {"result_of": name} for them, and refuses a name never set.
    assert "$R=@{}" in script and "$x=G $k 'name';if($x){$R[[string]$x]=$a}" in script
    assert 'throw "no earlier result named $t"' in script
    assert "$x=G $k 'expand';if($x){$a=@(foreach($z in $a){$z.$x})}" in script
