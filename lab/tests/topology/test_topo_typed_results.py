"""Cmdlet results that are typed values in Lync, not strings: the AD preparation states (enumerations) and the
topology document (an XElement)."""

from __future__ import annotations

from lync_lab.powershell.values import EnumValue, XElementValue


def test_ad_preparation_states_are_the_documented_enumerations(fe):
    """office-docs-powershell Get-CsAdForest.md: LC_FORESTSETTINGS_STATE_READY / _NOT_READY, OUTPUTS
    Microsoft.Rtc.Management.Deployment.LcForestSettingsState; Get-CsAdDomain.md: LC_DOMAINSETTINGS_STATE_READY /
    _NOT_READY, LcDomainSettingsState; Get-CsAdServerSchema.md: SCHEMA_VERSION_STATE_CURRENT, SchemaVersionState."""
    sh = fe(4)
    (forest,), (domain,), (schema,) = sh("Get-CsAdForest"), sh("Get-CsAdDomain"), sh("Get-CsAdServerSchema")
    assert isinstance(forest, EnumValue) and forest.type_name.endswith(".LcForestSettingsState")
    assert (str(forest), str(domain), str(schema)) == (
        "LC_FORESTSETTINGS_STATE_READY", "LC_DOMAINSETTINGS_STATE_READY", "SCHEMA_VERSION_STATE_CURRENT")
    assert domain.type_name.endswith(".LcDomainSettingsState") and schema.type_name.endswith(".SchemaVersionState")


def test_domain_preparation_of_a_domain_the_forest_lacks_is_refused_and_changes_nothing(fe):
    """Enable-CsAdDomain.md: -Domain is the FQDN of the domain where preparation takes place; a domain that does
    not exist cannot be prepared (the wording of the refusal is assumed)."""
    sh = fe(4)
    error = sh.fails("Enable-CsAdDomain", Domain="asia.litwareinc.com")
    assert error.category == "ObjectNotFound" and "asia.litwareinc.com" in error.message
    with sh.tx() as tx:
        assert "asia.litwareinc.com" not in tx.meta_get("adprep", {}).get("domains", {})


def test_get_cstopology_asxml_is_an_xelement_whose_string_is_the_document(fe):
    """Publish-CsTopology.md types -Document as System.Xml.Linq.XElement and its example passes
    (Get-CsTopology -AsXml).ToString(): the result is an XML tree, not a string."""
    sh = fe(4)
    (tree,) = sh("Get-CsTopology", AsXml=True)
    assert isinstance(tree, XElementValue) and not isinstance(tree, str)
    assert str(tree).lstrip().startswith("<Topology") and "urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008" in str(tree)


def test_new_cstrustedapplication_over_tcp_prompts_unless_force(fe):
    """office-docs-powershell New-CsTrustedApplication.md, -EnableTcp: without -Force "you'll receive a
    confirmation prompt before the new trusted application will be created"; under -NonInteractive the prompt
    fails (HostException) and nothing is created."""
    sh = fe(9)
    sh("New-CsTrustedApplicationPool", Identity="cas01.contoso.net", Registrar="pool02.contoso.net",
       Site="Redmond", RequiresReplication=False)
    error = sh.fails("New-CsTrustedApplication", ApplicationId="rcc", TrustedApplicationPoolFqdn="cas01.contoso.net",
                     Port=5060, EnableTcp=True)
    assert error.exception == "System.Management.Automation.Host.HostException"
    assert sh("Get-CsTrustedApplication") == []
    [app] = sh("New-CsTrustedApplication", ApplicationId="rcc", TrustedApplicationPoolFqdn="cas01.contoso.net",
               Port=5060, EnableTcp=True, Force=True)
    assert app["Identity"] == "cas01.contoso.net/urn:application:rcc"


def test_every_modelled_prompt_names_its_source():
    from lync_lab.cmdlets import load_all

    prompting = {impl.name: impl.prompt_source for impl in load_all().values() if impl.prompts is not None}
    assert {"Move-CsUser", "Move-CsExUmContact", "New-CsTrustedApplication"} <= set(prompting)
    assert all(source.startswith("office-docs-powershell ") for source in prompting.values())
