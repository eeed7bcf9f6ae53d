# AWX / Automation Controller content, the execution environment and molecule (docs/awx.md, docs/molecule.md).
#   make ee-check     ansible-builder introspect + create (no container engine needed)          ~10 s
#   make awx-tests    controller content, EE, and Phase 6 under ansible-runner against the lab   ~2-3 min
#   make molecule     every scenario in extensions/molecule (one lab at a time)                  ~2 min per scenario
.PHONY: ee-check awx-tests awx-collection molecule

# awx.awx from the PyPI `ansible` package (Galaxy is not reachable); needed by setup.yml and its tests.
awx-collection: venv
	$(BIN)/python tests/awx/install_awx_collection.py --cache .ansible/wheels

ee-check: venv awx-collection
	$(BIN)/python -m pytest -q tests/awx/test_ee.py $(PYTEST_ARGS)

# Serial: test_runner.py starts the lab on the inventory's fixed ports.
awx-tests: venv awx-collection
	$(BIN)/python -m pytest -q tests/awx tests/molecule $(PYTEST_ARGS)

molecule: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/molecule test --all
