"""A server's display language: the error messages a French or German Windows/Lync server shows.

PowerShell localises an error's message (the resource strings of the cmdlet, of WMI, of the event log service);
its FullyQualifiedErrorId, category and exception type are identifiers and stay the same in every language. A
scenario server with `culture: fr-FR` (or `de-DE`) gets, for exactly the errors below, the message in that
language, with the FQID, category, exception and target unchanged, so that automation which matches English
text misclassifies them as it would on a real localised server.

Sources of the translated text:
- Get-WinEvent's "No events were found that match the specified selection criteria." in French is quoted by
  Microsoft's French page "Connecter les données des événements de sécurité Windows à Azure Sentinel"
  (ms.contentlocale fr-FR, human translation): "Aucun événement correspondant aux critères de sélection spécifiés
  n'a été trouvé".
- Every other translation is *assumed* (written for the lab; Microsoft publishes no localised message catalogue
  for Lync Server 2013 or WMI that the lab could copy). Only the fact that these messages are localised is
  sourced: e.g. WMI's "Invalid class" arrives as "无效类" on a Chinese Windows (winsw/winsw issue #346).

Only errors whose English text matches `english` exactly are translated; anything else stays English, as
messages without a translation in a language pack do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import PSError

DEFAULT_CULTURE = "en-US"
CULTURES = ("en-US", "fr-FR", "de-DE")


@dataclass(frozen=True)
class Translation:
    error_id: str          # the FQID's first part (before the comma)
    exception: str         # the exception type name
    english: re.Pattern    # the English message; named groups are the values the translations reuse
    text: dict             # culture -> message template ({group} placeholders)


TRANSLATIONS = (
    # Get-CsUser (and other Lync identity lookups): the user or object does not exist.
    Translation("Identity", "Microsoft.Rtc.Management.AD.ManagementException",
                re.compile(r'^Management object not found for identity "(?P<identity>.*)"\.$', re.S), {
                    "fr-FR": 'Objet de gestion introuvable pour l\'identité "{identity}".',
                    "de-DE": 'Das Verwaltungsobjekt für die Identität "{identity}" wurde nicht gefunden.',
                }),
    # Get-CsUser: the identity matches more than one object.
    Translation("AmbiguousIdentity", "Microsoft.Rtc.Management.AD.AmbiguousIdentityException",
                re.compile(r'^"(?P<identity>.*)" is ambiguous\. ', re.S), {
                    "fr-FR": '"{identity}" est ambigu. L\'identité correspond à plusieurs objets dans Active '
                             "Directory. Indiquez une identité unique, telle que l'adresse SIP, le nom d'utilisateur "
                             "principal, domaine\\NomDeCompteSam ou le nom unique.",
                    "de-DE": '"{identity}" ist nicht eindeutig. Die Identität entspricht mehreren Objekten in Active '
                             "Directory. Geben Sie eine eindeutige Identität an, z. B. die SIP-Adresse, den "
                             "Benutzerprinzipalnamen, Domäne\\SAM-Kontoname oder den definierten Namen.",
                }),
    # Get-WinEvent: nothing matched (Windows reports an empty result as an error).
    Translation("NoMatchingEventsFound", "System.Exception",
                re.compile(r"^No events were found that match the specified selection criteria\.$"), {
                    "fr-FR": "Aucun événement correspondant aux critères de sélection spécifiés n'a été trouvé.",
                    "de-DE": "Es wurden keine Ereignisse gefunden, die den angegebenen Auswahlkriterien entsprechen.",
                }),
    # The Lync cmdlets before any topology is published (no Central Management store in AD).
    Translation("NoCentralManagementStore", "Microsoft.Rtc.Management.ManagementException",
                re.compile(r"^Active Directory does not contain the location of the Central Management store\."), {
                    "fr-FR": "Active Directory ne contient pas l'emplacement du magasin central de gestion. Publiez "
                             "une topologie avec le Générateur de topologie (ou Publish-CsTopology) avant d'exécuter "
                             "cette applet de commande.",
                    "de-DE": "Active Directory enthält den Speicherort des zentralen Verwaltungsspeichers nicht. "
                             "Veröffentlichen Sie eine Topologie mit dem Topologie-Generator (oder Publish-CsTopology), "
                             "bevor Sie dieses Cmdlet ausführen.",
                }),
    # Get-WmiObject: the class does not exist (an OCS WMI class on a server without OCS/OCSWMIBC.msi).
    Translation("GetWMIManagementException", "System.Management.ManagementException",
                re.compile(r'^Invalid class "(?P<cls>[^"]*)"$'), {
                    "fr-FR": 'Classe non valide "{cls}"',
                    "de-DE": 'Ungültige Klasse "{cls}"',
                }),
    # Get-Cs*Policy, Get-CsDialPlan, ...: the named item does not exist.
    Translation("MissingItem", "System.Management.Automation.ItemNotFoundException",
                re.compile(r'^Cannot get "(?P<noun>[^"]*)" "(?P<identity>.*)" because it does not exist\.$', re.S), {
                    "fr-FR": 'Impossible d\'obtenir "{noun}" "{identity}", car cet élément n\'existe pas.',
                    "de-DE": '"{noun}" "{identity}" kann nicht abgerufen werden, da das Element nicht vorhanden ist.',
                }),
    # The double hop: a bind to AD refused to a session without delegation. The LDAP diagnostic after "response:"
    # is the domain controller's own text (with the 000004DC code) and stays as the DC sent it.
    Translation("Microsoft.Rtc.Management.ADConnect.Core.ADOperationException",
                "Microsoft.Rtc.Management.ADConnect.Core.ADOperationException",
                re.compile(r'^Active Directory operation failed on "(?P<dc>[^"]*)"\. This error is not retriable\. '
                           r"Additional information: An operations error occurred\.\r\nActive directory response: "
                           r"(?P<ldap>.*)$", re.S), {
                    "fr-FR": 'Échec de l\'opération Active Directory sur "{dc}". Cette erreur ne peut pas être '
                             "réessayée. Informations supplémentaires : une erreur d'opération s'est produite.\r\n"
                             "Réponse d'Active Directory : {ldap}",
                    "de-DE": 'Fehler beim Active Directory-Vorgang auf "{dc}". Dieser Fehler kann nicht wiederholt '
                             "werden. Zusätzliche Informationen: Ein Vorgangsfehler ist aufgetreten.\r\n"
                             "Active Directory-Antwort: {ldap}",
                }),
)


def localise(error: PSError, culture: str | None) -> PSError:
    """``error`` as a server of ``culture`` shows it: the message translated when the lab has the translation,
    everything else (FQID, category, exception, target, transient) unchanged."""
    if not culture or culture == DEFAULT_CULTURE:
        return error
    error_id = (error.fqid or "").split(",", 1)[0]
    for t in TRANSLATIONS:
        if t.error_id != error_id or t.exception != error.exception or culture not in t.text:
            continue
        m = t.english.match(error.message or "")
        if m is None:
            continue
        out = error.__class__.__new__(error.__class__)     # same class and every other attribute
        out.__dict__.update(error.__dict__)
        out.message = t.text[culture].format(**m.groupdict())
        out.args = (out.message,)
        return out
    return error
