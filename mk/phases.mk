# Phases 7-10 and site.yml: the full runs (check, run, rerun against a lab of their own per phase) take minutes, so
# `make test` runs only their gate tests. docs/phases-7-10.md.
.PHONY: phases-late demo-large

# Every Phase 7-10 test and tests/integration/test_site.py, two files at a time (each file keeps its own lab).
phases-late: venv
	LYNC_LATE_PHASE_RUNS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile \
		tests/integration/phases/test_phase7_add_edge.py tests/integration/phases/test_phase8_production.py \
		tests/integration/phases/test_phase9_post_migration.py tests/integration/phases/test_phase10_decommission.py \
		tests/integration/test_site.py $(PYTEST_ARGS)

# The whole migration on contoso-large (20,000 users); reports/<stamp>-demo/summary.json records how long it took.
demo-large: venv
	SCENARIO=contoso-large $(BIN)/python tools/demo.py
