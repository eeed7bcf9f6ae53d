# Rehearse the whole migration on a scenario (a captured one: playbooks/capture-scenario.yml) with the realistic
# latency model, a move-time estimate per wave before it and the estimate beside the measured moves after it
# (tools/rehearse.py; docs/rehearsal.md). TIME_SCALE (default 1.0) multiplies every modelled delay.
.PHONY: rehearse capture-large

rehearse: venv
	@test -n "$(SCENARIO)" || { echo "make rehearse SCENARIO=PATH (a scenario file, or a shipped name)"; exit 2; }
	$(BIN)/python tools/rehearse.py --scenario $(SCENARIO) --time-scale $(TIME_SCALE)

# Issue 16's acceptance on contoso-large: capture -> file -> new lab -> capture again, identical files and state,
# and the anonymised capture (about 12 minutes on 2 cores; make test runs the contoso-small round trip).
capture-large: venv
	LYNC_CAPTURE_LARGE=1 $(BIN)/python -m pytest -q tests/integration/capture/test_capture_large_roundtrip.py $(PYTEST_ARGS)
