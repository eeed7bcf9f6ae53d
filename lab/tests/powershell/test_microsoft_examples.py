"""Microsoft's own EXAMPLES, run against the lab: every example valid for Lync Server 2013 / Windows PowerShell 3.0
must parse and bind; what the lab does not model must say so ("... is not supported by the lync.migration lab."),
never "not recognized" or a binding error as if the example were wrong.

Source: /work/shared/reference/cmdlet-examples.json, the EXAMPLES sections of the pages of every cmdlet the lab
implements (MicrosoftDocs/office-docs-powershell skype/skype-ps/SkypeForBusiness/<cmdlet>.md and
MicrosoftDocs/PowerShell-Docs reference/3.0/.../<cmdlet>.md). The file is read where it lives (`<repo>/../shared/
reference/` or $LYNC_SHARED_DIR/reference/), never copied here.

Each page's examples run in order, as an admin following the page would, on a fresh in-process lab at a stage
where the cmdlet exists (Lync cmdlets from stage 4 on: after Phase 3 installs Lync Server 2013; the lab uses
stage 6, users still on OCS and the legacy topology merged, so both the Merge/legacy cmdlets and the Lync ones
have something to work on). Every outcome is classified:

- ran: no error;
- domain: the cmdlet ran and failed as the product would (e.g. "Management object not found" for Microsoft's
  litwareinc.com identities, which the contoso lab does not have): fine;
- outside: the lab said the construct is outside its PowerShell subset (LabNotSupported): listed in
  lab/README.md, "Outside the lab's PowerShell subset";
- refused: a parse error, a parameter binding error, or "is not recognized" for a command Windows PowerShell 3.0
  has: the lab's defect, must not happen for a valid example.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from lync_lab.config import LabConfig
from lync_lab.lab import Lab
from lync_lab.powershell.clixml import decode_clixml

from conftest import ps

REPO = Path(__file__).resolve().parents[3]


def _examples_file() -> Path | None:
    shared = os.environ.get("LYNC_SHARED_DIR")
    candidates = ([Path(shared) / "reference" / "cmdlet-examples.json"] if shared else []) + \
        [REPO.parent / "shared" / "reference" / "cmdlet-examples.json"]
    return next((p for p in candidates if p.is_file()), None)


EXAMPLES_FILE = _examples_file()
EXAMPLES: list[dict] = json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))["examples"] if EXAMPLES_FILE else []

# Examples that are not valid Lync Server 2013 PowerShell, judged by reading each page. Key: (cmdlet, heading,
# the example's first line). They run like the others, but a refusal is expected and not counted as a defect.
NOT_FOR_LYNC_2013: dict[tuple[str, str], str] = {
    ("Move-CsUser", "EXAMPLE 1: Move a user to Teams"):
        "Move-CsUser.md: moving to Teams (-Target sipfed.online.lync.com) exists from Skype for Business Server "
        "2015 CU8 / 2019 on; the example also starts with Get-Credential, a prompt -NonInteractive cannot show",
    ("Move-CsUser", "EXAMPLE 2: Move a user to Skype for Business Online"):
        "Move-CsUser.md: hybrid move to Skype for Business Online (Lync Server 2013 has no hosted move from this "
        "cmdlet's Target 'sipfed.online.lync.com'); Get-Credential prompts",
    ("Set-CsWebServiceConfiguration", "Example 5"):
        "Set-CsWebServiceConfiguration.md: Microsoft's text has '- CrossDomainAuthorizationList' (a space after "
        "the dash); PowerShell reads '-' as a positional argument",
    ("Set-CsWebServiceConfiguration", "Example 7"):
        "Set-CsWebServiceConfiguration.md: the same typo, '- CrossDomainAuthorizationList $Null'",
    ("Get-CsConferencingPolicy", "Example 7"):
        "Get-CsConferencingPolicy.md: -ApplicableTo is 'Applicable: Skype for Business Online' and the example says "
        "it can only be used with Skype for Business Online; Lync Server 2013 has no such parameter",
    ("Get-CsExternalAccessPolicy", "EXAMPLE 6"):
        "Get-CsExternalAccessPolicy.md: -ApplicableTo applies only to Skype for Business Online",
    ("Publish-CsTopology", "Example 1"):
        "Publish-CsTopology.md: the Markdown escape '\\>' is printed instead of the redirection '>'",
}


# What stays outside the lab's PowerShell subset (lab/README.md, "Outside the lab's PowerShell subset", gives the
# same counts): (cmdlet, heading) -> (number of examples under that heading, the construct).
LDAP = "Get-CsUser -LdapFilter (the lab evaluates -Filter, not LDAP)"
METHOD = "a .NET method call on an object ($x.RemoveAt(0), (Get-Date).AddDays(-2), .StopService())"
DATE = "Get-Date / New-TimeSpan (no date objects)"
ITEM = "the item cmdlets (Get-Item, Get-ChildItem, New-Item, Set-ItemProperty)"
CIM = "the CIM cmdlets besides Get-CimInstance (New-CimInstance, New-CimSession, Invoke-CimMethod)"
MEMBER = "Get-Member"
WIN32 = "Windows' own WMI classes (Win32_Process, Win32_BIOS, __NAMESPACE ...): every server has them, the lab models none"
OUTSIDE_SUBSET: dict[tuple[str, str], tuple[int, str]] = {
    ("Get-CsUser", "EXAMPLE 6"): (1, LDAP), ("Get-CsUser", "EXAMPLE 7"): (1, LDAP),
    ("Get-CsUser", "EXAMPLE 8"): (1, LDAP), ("Grant-CsArchivingPolicy", "EXAMPLE 3"): (1, LDAP),
    ("Grant-CsConferencingPolicy", "EXAMPLE 4"): (1, LDAP), ("Grant-CsDialPlan", "EXAMPLE 2"): (1, LDAP),
    ("Grant-CsExternalAccessPolicy", "EXAMPLE 2"): (1, LDAP), ("Grant-CsExternalAccessPolicy", "EXAMPLE 3"): (1, LDAP),
    ("Grant-CsPresencePolicy", "EXAMPLE 3"): (1, LDAP), ("Grant-CsPresencePolicy", "EXAMPLE 4"): (1, LDAP),
    ("Set-CsUser", "Example 2"): (1, LDAP),
    ("Set-CsWebServiceConfiguration", "Example 6"): (1, METHOD),
    ("Get-WmiObject", "Example 5: Stop a service on a remote computer"): (1, METHOD),
    ("Get-WinEvent", "Example 16: Use FilterHashtable to get events from the Application log"): (1, METHOD),
    ("Get-WinEvent", "Example 17: Use FilterHashtable to get application errors"): (1, METHOD),
    ("Add-Content", "Example 2: Add a date to the end of the specified files"): (1, DATE),
    ("Get-WinEvent", "Example 15: Filter event log results"): (1, DATE),
    ("Set-Content", "Example 2: Create a new file and write content"): (1, DATE),
    ("Add-Content", "Example 6: Add content to a read-only file"): (1, ITEM),
    ("Get-Content", "Example 4: Get the last line of a text file"): (1, ITEM),
    ("Get-Content", "Example 5: Get the content of an alternate data stream"): (2, ITEM),
    ("Set-Content", "Example 1: Replace the contents of multiple files in a directory"): (1, ITEM),
    ("Get-CimInstance", "Example 5: Get the CIM instances with only key properties filled in"): (1, CIM),
    ("Get-CimInstance", "Example 8: Getting only the key properties, instead of all properties"): (1, CIM),
    ("Get-CimInstance", "Example 9: Getting only a subset of properties, instead of all properties"): (1, CIM),
    ("Get-CimInstance", "Example 10: Get the CIM instance using CIM session"): (1, CIM),
    ("Get-Content", "Example 8: Get file contents as a byte array"): (1, MEMBER),
    ("Get-CimInstance", "Example 1: Get the CIM instances of a specified class"): (1, WIN32),
    ("Get-CimInstance", "Example 2: Get a list of namespaces from a WMI server"): (1, WIN32),
    ("Get-CimInstance", "Example 3: Get instances of a class filtered by using a query"): (1, WIN32),
    ("Get-CimInstance", "Example 4: Get instances of a class filtered by using a class name and a filter expression"):
        (1, WIN32),
    ("Get-CimInstance", "Example 6: Retrieve CIM instances and reuse them"): (1, WIN32),
    ("Get-CimInstance", "Example 7: Get CIM instances from remote computer"): (1, WIN32),
    ("Get-WmiObject", "Example 1: Get processes on the local computer"): (1, WIN32),
    ("Get-WmiObject", "Example 6: Get the BIOS on the local computer"): (1, WIN32),
}


def _pages() -> dict[str, list[dict]]:
    pages: dict[str, list[dict]] = {}
    for example in EXAMPLES:
        pages.setdefault(example["cmdlet"], []).append(example)
    return pages


PAGES = _pages()

_BINDING_IDS = ("NamedParameterNotFound", "PositionalParameterNotFound", "MissingArgument", "AmbiguousParameter",
                "ParameterAlreadyBound", "CannotConvertArgument", "ParameterArgumentTransformation",
                "ParameterArgumentValidationError", "AmbiguousParameterSet", "MissingMandatoryParameter",
                "InputObjectNotBound")


def classify(code: int, stderr: str) -> tuple[str, list[str]]:
    """(class, the first line of every error record) for one run."""
    text = decode_clixml(stderr).replace("\r\n", "\n")
    records = [r for r in re.split(r"\n \n", text) if r.strip()]
    kinds, firsts = [], []
    for record in records:
        fqid = (re.search(r"FullyQualifiedErrorId : (\S+)", record) or [None, ""])[1]
        category = (re.search(r"CategoryInfo\s+: (\w+)", record) or [None, ""])[1]
        exception = (re.search(r"\], (\w+)\s*$", record.splitlines()[-1] if record.splitlines() else "")
                     or [None, ""])[1]
        lines = [line for line in record.splitlines() if line.strip()]
        firsts.append(next((line for line in lines if not line.startswith(("At line", "+ ", "    +"))), lines[0]))
        if kinds and "outside" in kinds:
            # After a statement outside the subset the example cannot be judged further: its variables are
            # unset, its files unwritten, so what follows fails for that reason.
            kinds.append("outside")
        elif "prompts the user failed because the host program" in record:
            # A valid example that needs a prompt (e.g. -Credential DOMAIN\user asks for the password):
            # powershell.exe -NonInteractive fails the same way on Windows.
            kinds.append("domain")
        elif category == "ParserError":
            kinds.append("refused")
        elif fqid.startswith("CommandNotFoundException"):
            kinds.append("refused")
        elif exception == "ParameterBindingException" or any(fqid.startswith(b) for b in _BINDING_IDS):
            kinds.append("refused")
        elif fqid.startswith("Lab") or category == "NotImplemented":
            kinds.append("outside")   # LabNotSupported, LabCmdletNotModelled, Get-CsUser -LdapFilter ...
        else:
            kinds.append("domain")
    for worst in ("refused", "outside", "domain"):
        if worst in kinds:
            return worst, firsts
    return ("ran" if code == 0 else "domain"), firsts


def stage_for(cmdlet: str) -> int:
    # Lync cmdlets exist from stage 4 (Lync Server 2013 installed); stage 6 has the legacy topology merged, the
    # configuration imported and every user still on OCS, so the Move/Merge/Import examples have their inputs.
    return 6


def run_page(cmdlet: str, tmp_path) -> list[tuple[dict, str, list[str]]]:
    lab = Lab(LabConfig(state_dir=tmp_path, stage=stage_for(cmdlet)))
    try:
        fe = lab.runtime_for(lab.server("lync-fe01.contoso.net"))
        results = []
        for example in PAGES[cmdlet]:
            code, sink = ps(fe, example["code"])
            kind, errors = classify(code, sink.stderr_text)
            results.append((example, kind, errors))
        return results
    finally:
        lab.store.close()


@pytest.mark.skipif(EXAMPLES_FILE is None,
                    reason="cmdlet-examples.json not found in <repo>/../shared/reference/ or $LYNC_SHARED_DIR/reference/")
@pytest.mark.parametrize("cmdlet", sorted(PAGES) or ["(no cmdlet-examples.json)"])
def test_microsoft_examples_bind(cmdlet, tmp_path):
    """Every valid example of the page parses and binds; the ones outside the subset are exactly those listed
    (so lab/README.md's list stays true); the ones not valid for Lync Server 2013 do not run."""
    refused, outside, wrongly_ran = [], Counter(), []
    for example, kind, errors in run_page(cmdlet, tmp_path):
        key = (example["cmdlet"], example["heading"])
        if key in NOT_FOR_LYNC_2013:
            if kind == "ran":
                wrongly_ran.append(f"{example['heading']}: {NOT_FOR_LYNC_2013[key]}")
        elif kind == "refused":
            refused.append(f"{example['heading']}: {example['code']!r}: {errors}")
        elif kind == "outside":
            outside[key] += 1
    assert not refused, "\n".join(refused)
    assert not wrongly_ran, "listed as not valid for Lync Server 2013, yet it ran: " + "; ".join(wrongly_ran)
    expected = Counter({k: n for k, (n, _) in OUTSIDE_SUBSET.items() if k[0] == cmdlet})
    assert outside == expected, "update OUTSIDE_SUBSET and lab/README.md's list"


@pytest.mark.skipif(EXAMPLES_FILE is None, reason="cmdlet-examples.json not found")
def test_every_listed_example_exists():
    """The lists name real examples of the reference (a renamed heading would silently empty a check)."""
    keys = Counter((e["cmdlet"], e["heading"]) for e in EXAMPLES)
    for key, (count, _) in OUTSIDE_SUBSET.items():
        assert keys[key] >= count, key   # a heading can hold several examples (Get-Content's Example 5 has 4)
    for key in NOT_FOR_LYNC_2013:
        assert keys[key] == 1, key
