# AWX / Automation Controller content, the execution environment and molecule (docs/awx.md, docs/molecule.md).
#   make ee-check        ansible-builder introspect + create (no container engine needed)             ~10 s
#   make awx-tests       controller content, EE, Phases 1 and 6 under ansible-runner against labs      ~3 min
#   make molecule        every scenario in extensions/molecule, MOLECULE_JOBS at a time (default 2)     see docs/molecule.md
#   make molecule-quick  a representative subset (MOLECULE_QUICK)                                      ~3 min
#   make molecule-<role> one scenario, e.g. make molecule-decommission
.PHONY: ee-check awx-tests awx-collection molecule molecule-quick

# awx.awx from the PyPI `ansible` package (Galaxy is not reachable); needed by setup.yml and its tests.
awx-collection: venv
	$(BIN)/python tests/awx/install_awx_collection.py --cache .ansible/wheels

ee-check: venv awx-collection
	$(BIN)/python -m pytest -q tests/awx/test_ee.py $(PYTEST_ARGS)

# The labs of test_runner.py listen on free ports of their own, so this runs beside other suites.
awx-tests: venv awx-collection
	$(BIN)/python -m pytest -q tests/awx tests/molecule $(PYTEST_ARGS)

# Each scenario's lab has ports of its own (extensions/molecule/shared/lab_instance.py), so scenarios run side by
# side; each one's output is printed whole when it ends (--output-sync).
MOLECULE_SCENARIOS := $(sort $(patsubst extensions/molecule/%/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml)))
MOLECULE_JOBS ?= 2
# The subset for `make test`-sized runs: the merge (Phase 4: the legacy topology enters the Lync topology), the
# user moves (Phase 6, the role most users run) and the decommissioning (Phase 10: BackCompatSite and DNS).
MOLECULE_QUICK ?= merge_topologies move_users decommission

molecule: venv
	@start=$$(date +%s); $(MAKE) --no-print-directory -j$(MOLECULE_JOBS) --output-sync=target \
		$(addprefix molecule-,$(MOLECULE_SCENARIOS)) && echo "molecule: $(words $(MOLECULE_SCENARIOS)) scenarios passed in $$(( $$(date +%s) - start )) s"

molecule-quick: venv
	@start=$$(date +%s); $(MAKE) --no-print-directory -j$(MOLECULE_JOBS) --output-sync=target \
		$(addprefix molecule-,$(MOLECULE_QUICK)) && echo "molecule-quick: $(MOLECULE_QUICK) passed in $$(( $$(date +%s) - start )) s"

molecule-%: venv
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/molecule test -s $*
