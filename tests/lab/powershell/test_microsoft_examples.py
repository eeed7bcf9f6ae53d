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
        elif fqid.startswith("LabNotSupported"):
            kinds.append("outside")
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
@pytest.mark.parametrize("cmdlet", sorted(PAGES))
def test_microsoft_examples_bind(cmdlet, tmp_path):
    refused = []
    for example, kind, errors in run_page(cmdlet, tmp_path):
        key = (example["cmdlet"], example["heading"])
        if kind == "refused" and key not in NOT_FOR_LYNC_2013:
            refused.append(f"{example['heading']}: {example['code']!r}: {errors}")
    assert not refused, "\n".join(refused)
