"""A server that plays a French or German Windows: scenario key `culture:` (lync_lab.localisation).

The translated messages are the lab's own (assumed), except Get-WinEvent's French "Aucun événement correspondant
aux critères de sélection spécifiés n'a été trouvé", which Microsoft's French Azure Sentinel page quotes. What the
test holds the lab to is the documented PowerShell behaviour: an error's message is localised, its
FullyQualifiedErrorId and exception type are not (they are identifiers).
"""

from __future__ import annotations

import pytest
import yaml

from lync_lab import engine
from lync_lab.config import LabConfig
from lync_lab.errors import LabConfigError, PSError
from lync_lab.context import CmdletContext, SessionInfo
from lync_lab.lab import Lab
from lync_lab.model.scenario import SCENARIO_DIR, load_scenario

ADMIN = SessionInfo(user="CONTOSO\\lyncadmin", auth="ntlm")


def scenario_with_culture(tmp_path, culture):
    raw = yaml.safe_load((SCENARIO_DIR / "contoso-small.yml").read_text(encoding="utf-8"))
    for server in raw["servers"]:
        server["culture"] = culture
    path = tmp_path / f"contoso-{culture}.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def lab_in(tmp_path):
    labs = []

    def make(culture, stage=6, double_hop=False):
        lab = Lab(LabConfig(scenario=str(scenario_with_culture(tmp_path, culture)), stage=stage,
                            state_dir=tmp_path / f"{culture}-{stage}-{len(labs)}", double_hop=double_hop))
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        lab.store.close()
        lab.audit.close()


def fails(lab, cmdlet, server="lync-fe01.contoso.net", **params) -> PSError:
    ctx = CmdletContext(lab, lab.server(server), ADMIN)
    with pytest.raises(PSError) as info:
        engine.invoke(ctx, cmdlet, params, params)
    return info.value


def pair(make, cmdlet, stage=6, server="lync-fe01.contoso.net", double_hop=False, **params):
    """The same failing call on an en-US and on a fr-FR server."""
    return (fails(make("en-US", stage, double_hop), cmdlet, server, **params),
            fails(make("fr-FR", stage, double_hop), cmdlet, server, **params))


def same_identifiers(en, fr):
    assert (fr.fqid, fr.category, fr.exception, fr.target) == (en.fqid, en.category, en.exception, en.target)
    assert fr.message != en.message


def test_user_not_found_in_french(lab_in):
    en, fr = pair(lab_in, "Get-CsUser", Identity="Nobody Here")
    same_identifiers(en, fr)
    assert fr.message == 'Objet de gestion introuvable pour l\'identité "Nobody Here".'


def test_winevent_no_events_in_french_and_german(lab_in):
    params = dict(FilterHashtable={"LogName": "Lync Server", "Id": 99999})
    en, fr = pair(lab_in, "Get-WinEvent", **params)
    same_identifiers(en, fr)
    assert en.fqid == "NoMatchingEventsFound,Microsoft.PowerShell.Commands.GetWinEventCommand"
    assert fr.message.startswith("Aucun événement correspondant aux critères de sélection spécifiés")
    de = fails(lab_in("de-DE"), "Get-WinEvent", **params)
    assert de.fqid == en.fqid and de.message.startswith("Es wurden keine Ereignisse gefunden")


def test_no_cms_wmi_class_and_missing_policy_in_french(lab_in):
    from lync_lab.perform.servers import install_core

    def lync_installed_no_topology(culture):      # Phase 3 after P3.2 (admin tools), before the first publish
        lab = lab_in(culture, stage=3)
        with lab.store.transaction() as tx:
            install_core(tx, "lync-fe01.contoso.net")
        return lab

    en = fails(lync_installed_no_topology("en-US"), "Get-CsTopology")
    fr = fails(lync_installed_no_topology("fr-FR"), "Get-CsTopology")
    same_identifiers(en, fr)
    assert en.fqid.startswith("NoCentralManagementStore,")
    assert "Central Management store" not in fr.message
    en, fr = pair(lab_in, "Get-WmiObject", stage=3, Class="MSFT_SIPPoolSetting")   # no OCSWMIBC.msi on lync-fe01
    same_identifiers(en, fr)
    assert fr.message == 'Classe non valide "MSFT_SIPPoolSetting"'
    en, fr = pair(lab_in, "Get-CsConferencingPolicy", Identity="Tag:NoSuchPolicy")
    same_identifiers(en, fr)
    assert "does not exist" not in fr.message


def test_double_hop_keeps_the_ldap_code(lab_in):
    en, fr = pair(lab_in, "Get-CsUser", double_hop=True, Identity="David Pelton")
    same_identifiers(en, fr)
    assert "000004DC" in fr.message and fr.message.startswith("Échec de l'opération Active Directory")


def test_errors_without_a_translation_stay_english(lab_in):
    err = fails(lab_in("fr-FR", stage=10), "Move-CsConferenceDirectory", Identity="42",
                TargetPool="pool02.contoso.net")
    english = fails(lab_in("en-US", stage=10), "Move-CsConferenceDirectory", Identity="42",
                    TargetPool="pool02.contoso.net")
    assert err.message == english.message      # as on a server whose language pack lacks the string


def test_scenario_culture_is_validated(tmp_path):
    assert load_scenario(str(scenario_with_culture(tmp_path, "fr-FR"))).servers[0].culture == "fr-FR"
    with pytest.raises(LabConfigError) as info:
        load_scenario(str(scenario_with_culture(tmp_path, "xx-XX")))
    assert "culture" in str(info.value)
