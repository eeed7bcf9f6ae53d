"""Binding against Microsoft's catalog, checked for every Lync Server 2013 cmdlet (cases generated from the
catalog), plus the conversions and set rules an admin runs into."""

from __future__ import annotations

import pytest

from lync_lab.errors import PSError
from lync_lab.powershell.binder import Arg, bind, bind_named
from lync_lab.powershell.catalog import load_catalog
from lync_lab.powershell.values import PSCredential, ScriptBlock

CATALOG = load_catalog()
LYNC = sorted(CATALOG.lync_cmdlets(), key=lambda c: c.name)


def _value_for(p):
    """A value of the parameter's type, as an admin would type it."""
    leaf = p.type.rsplit(".", 1)[-1]
    if p.is_switch or leaf == "Boolean":
        return True
    if "Int" in p.type or "Byte" in p.type:
        return 1
    if "Guid" in p.type:
        return "0f7c7e5e-1a9b-4c1e-9d8e-3a2b1c0d9e8f"
    if "PSCredential" in p.type:
        return PSCredential("CONTOSO\\lyncadmin", "pw")
    if "Hashtable" in p.type:
        return {}
    return "x"


def _args_for(params):
    args = []
    for p in params:
        args.append(Arg(name=p.name, value=_value_for(p), has_colon_value=True))
    return args


def test_catalog_holds_every_lync_2013_cmdlet_and_the_windows_ones():
    assert len(LYNC) == 750
    for name in ("Get-Service", "Get-WinEvent", "Where-Object", "ConvertTo-Json", "Resolve-DnsName"):
        assert CATALOG.get(name.lower()).name == name


def test_every_lync_cmdlet_rejects_an_unknown_parameter():
    for info in LYNC:
        with pytest.raises(PSError) as caught:
            bind(info, [Arg(name="NoSuchParameterXyz")])
        assert caught.value.message == "A parameter cannot be found that matches parameter name 'NoSuchParameterXyz'."
        assert caught.value.fqid.startswith("NamedParameterNotFound,"), info.name


def test_every_single_set_lync_cmdlet_reports_each_missing_mandatory_parameter():
    checked = 0
    for info in LYNC:
        if len(info.sets) != 1:
            continue
        mandatory = [p for p in info.parameters.values() if p.required]
        for missing in mandatory:
            given = [p for p in mandatory if p is not missing]
            with pytest.raises(PSError) as caught:
                bind(info, _args_for(given))
            assert caught.value.message == (
                f"Cannot process command because of one or more missing mandatory parameters: {missing.name}."), info.name
            checked += 1
    assert checked > 100


def test_every_unique_prefix_of_every_parameter_binds_to_it():
    for info in LYNC:
        names = [n.lower() for p in info.parameters.values() for n in (p.name, *p.aliases)]
        for p in info.parameters.values():
            prefix = next((p.name[:k] for k in range(1, len(p.name) + 1)
                           if sum(n.startswith(p.name[:k].lower()) for n in names) == 1
                           and not any(c.startswith(p.name[:k].lower()) for c in
                                       ("verbose", "debug", "erroraction", "warningaction", "errorvariable",
                                        "warningvariable", "outvariable", "outbuffer", "vb", "db", "ea", "wa",
                                        "ev", "wv", "ov", "ob"))), None)
            if prefix is None:
                continue
            binder_args = [Arg(name=prefix, value=_value_for(p), has_colon_value=True)]
            try:
                bound = bind(info, binder_args)
            except PSError as error:
                # Only mandatory/set errors may remain: the name itself was understood.
                assert error.fqid.split(",")[0] in ("MissingMandatoryParameter", "AmbiguousParameterSet"), (info.name, prefix, error.message)
                continue
            assert p.name in bound.params, (info.name, prefix)


def test_parameters_of_later_products_do_not_exist_on_lync_2013():
    with pytest.raises(PSError, match="matches parameter name 'OnModernServer'"):
        bind(CATALOG.get("Get-CsUser"), [Arg(name="OnModernServer")])


def test_aliases_common_parameters_and_switch_values():
    bound = bind(CATALOG.get("Move-CsLegacyUser"), [
        Arg("David Pelton"), Arg("pool02.contoso.net"), Arg(name="wi"), Arg(name="ea"), Arg("stop"),
        Arg(name="Force", value=False, has_colon_value=True)])
    assert bound.params == {"Identity": "David Pelton", "Target": "pool02.contoso.net", "WhatIf": True, "Force": False}
    assert bound.common == {"ErrorAction": "Stop"}


def test_ambiguous_prefix_lists_the_candidates():
    with pytest.raises(PSError) as caught:
        bind(CATALOG.get("Move-CsLegacyUser"), [Arg(name="ExcludeD"), Arg(name="Exclude")])
    assert caught.value.message.startswith("Parameter cannot be processed because the parameter name 'Exclude' is "
                                           "ambiguous. Possible matches include: -ExcludeArchivingPolicy ")


def test_exclusive_parameter_sets_cannot_be_resolved():
    with pytest.raises(PSError) as caught:
        bind(CATALOG.get("Get-CsPool"), [Arg(name="Identity"), Arg("pool02"), Arg(name="Filter"), Arg("*")])
    assert caught.value.message == "Parameter set cannot be resolved using the specified named parameters."
    assert caught.value.fqid.startswith("AmbiguousParameterSet,")


def test_integer_and_boolean_conversion_errors_use_powershells_words():
    with pytest.raises(PSError) as caught:
        bind(CATALOG.get("Get-CsUser"), [Arg(name="ResultSize"), Arg("ten")])
    assert caught.value.message == ('Cannot bind parameter \'ResultSize\'. Cannot convert value "ten" to type '
                                    '"System.UInt32". Error: "Input string was not in a correct format."')
    assert bind(CATALOG.get("Get-CsUser"), [Arg(name="ResultSize"), Arg("Unlimited")]).params["ResultSize"] == "Unlimited"
    with pytest.raises(PSError, match="Boolean parameters accept only Boolean values and numbers"):
        bind_named(CATALOG.get("Set-CsUser"), {"Identity": "x", "Enabled": "yes"})


def test_script_block_filter_arrives_as_its_inner_text_and_arrays_from_comma_lists():
    bound = bind(CATALOG.get("Get-CsUser"), [Arg(name="Filter"), Arg(ScriptBlock(' RegistrarPool -eq "p" '))])
    assert bound.params["Filter"] == ' RegistrarPool -eq "p" '
    bound = bind(CATALOG.get("Get-Service"), [Arg(["RTCSRV", "RTCCLSAGT"])])
    assert bound.params["Name"] == ["RTCSRV", "RTCCLSAGT"]


def test_pipeline_object_binds_identity_by_property_name():
    user = {"Identity": "CN=Ken Myer,DC=contoso,DC=net", "RegistrarPool": "ocspool01"}
    bound = bind(CATALOG.get("Move-CsLegacyUser"), [Arg(name="Target"), Arg("pool02")], user, True)
    assert bound.params == {"Target": "pool02", "Identity": "CN=Ken Myer,DC=contoso,DC=net"}


def test_credentials_are_redacted_for_the_audit_log():
    bound = bind_named(CATALOG.get("Move-CsLegacyUser"), {"Identity": "a", "Target": "b",
                                                          "Credential": PSCredential("CONTOSO\\lyncadmin", "S3cret!")})
    assert bound.audit_params["Credential"] == {"UserName": "CONTOSO\\lyncadmin", "Password": "***"}
    assert "S3cret!" not in repr(bound.params)
