"""A scenario loaded from a file outside the shipped ones (a capture) is found again by `lync-lab perform`: the
state records its path, a shipped scenario its name (model/scenario.py Scenario.ref, perform/registry.py)."""

import shutil

from lync_lab.model.scenario import SCENARIO_DIR, load_scenario
from lync_lab.model.store import Store
from lync_lab.perform.registry import scenario_of


def test_shipped_by_name_captured_by_path(tmp_path):
    assert load_scenario("contoso-small").ref == "contoso-small"
    copy = tmp_path / "captured.yml"
    shutil.copy(SCENARIO_DIR / "contoso-small.yml", copy)
    captured = load_scenario(copy)
    assert captured.ref == str(copy.resolve())
    store = Store(tmp_path / "state.sqlite")
    try:
        store.seed(captured, 1)
        with store.transaction(write=False) as tx:
            assert scenario_of(tx).path.resolve() == copy.resolve()
    finally:
        store.close()
