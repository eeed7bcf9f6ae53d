"""Phases 1-2 labs: phase_lab.PhaseLab with the lab's DNS server (Phase 1 reads the SRV records, Phase 2 checks
the pilot pool's A record), the inventory's resolver pointing at it."""

from __future__ import annotations

from phase_lab import PhaseLab, collections_tree

READ_ONLY = ("Get-", "Test-")


def make_lab(tmp_path_factory, name: str, stage: int) -> PhaseLab:
    root = tmp_path_factory.mktemp(name)
    lab = PhaseLab(root, stage, collections_tree(root), dns=True)
    lab.start()
    return lab


def changing_calls(entries):
    return [e.get("cmdlet") for e in entries if e.get("cmdlet") and not str(e["cmdlet"]).startswith(READ_ONLY)]


def comparable(state):
    """The state minus what names the seed rather than the deployment (_meta.stage)."""
    out = {k: dict(v) for k, v in state.items()}
    out["_meta"].pop("stage", None)
    return out
