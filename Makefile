# lync.migration: the two commands users need are `make demo` and `make test`; each installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTION_LINK := .ansible/collections/ansible_collections/lync/migration

# The lab (`make lab`): the ports inventories/lab names.
SCENARIO ?= contoso-small
STAGE ?= 1
LATENCY ?= none
TIME_SCALE ?= 1.0
FAULTS ?=
KEEP ?=
LAB_DIR := .lab
LAB_PID := $(LAB_DIR)/lab.pid
LAB_LOG := $(LAB_DIR)/lab.log
LAB_HTTP_PORT ?= 55985
LAB_HTTPS_PORT ?= 55986
LAB_DNS_PORT ?= 55953

PYTEST_ARGS ?=

# Longer suites and ecosystem checks live in their own files: bench, reliability, molecule, AWX, phases.
-include mk/*.mk

.PHONY: help venv lab lab-stop demo test unit lab-tests transcripts integration sanity lint clean

help:
	@echo "make demo   run the migration against the rehearsal lab"
	@echo "make test   run every test (unit, lab, integration, the built artifact, docs site, reports in a browser, sanity, lint)"
	@echo "make dist   build the collection tarball and the lab's wheel (dist/); make docs: the docs site (build/docs/html)"
	@echo "make reliability, make bench, make test-core-range, make demo-large: the long suites"
	@echo "make lab [SCENARIO=contoso-small] [STAGE=1..11] [LATENCY=none|realistic] [FAULTS=...] [KEEP=1]; make lab-stop"

venv: $(STAMP) $(COLLECTION_LINK)

$(STAMP): requirements.txt lab/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e lab
	touch $(STAMP)

# ansible.cfg's collections_path finds the working tree as lync.migration through this link.
$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn ../../../.. $(COLLECTION_LINK)

lab: venv
	@$(MAKE) --no-print-directory lab-stop
	@mkdir -p $(LAB_DIR)
	@$(BIN)/lync-lab serve --scenario $(SCENARIO) --stage $(STAGE) --state-dir $(LAB_DIR) \
		--http-port $(LAB_HTTP_PORT) --https-port $(LAB_HTTPS_PORT) --dns-port $(LAB_DNS_PORT) --latency $(LATENCY) --time-scale $(TIME_SCALE) \
		$(if $(FAULTS),--faults $(FAULTS)) $(if $(KEEP),--keep) --pid-file $(LAB_PID) >$(LAB_LOG) 2>&1 & \
	for i in $$(seq 1 300); do \
		if grep -q "listening on" $(LAB_LOG) 2>/dev/null; then cat $(LAB_LOG); exit 0; fi; \
		if ! kill -0 $$! 2>/dev/null; then echo "lync-lab did not start:"; cat $(LAB_LOG); exit 1; fi; \
		sleep 0.2; \
	done; echo "lync-lab did not answer within 60 s:"; cat $(LAB_LOG); exit 1

lab-stop:
	@if [ -f $(LAB_PID) ]; then \
		pid=$$(cat $(LAB_PID)); kill $$pid 2>/dev/null || true; \
		for i in $$(seq 1 50); do kill -0 $$pid 2>/dev/null || break; sleep 0.1; done; \
		kill -9 $$pid 2>/dev/null || true; rm -f $(LAB_PID); echo "lync-lab stopped"; \
	fi

demo: venv
	$(BIN)/python tools/demo.py

# Everything CI runs (851 s in CI on a clean clone; see README.md). Longer suites have their own targets: reliability, bench,
# kerberos-deps (see mk/).
test: venv unit lab-tests integration reliability-fast awx-tests molecule dist-test docs-test report-test sanity lint
	@echo "make test: all suites passed"

unit: venv
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

# Re-record the envelope transcripts the unit tests replay (tests/unit/transcripts) from a fresh lab; the
# integration suite fails when a committed one no longer matches (tests/integration/modules/test_transcripts_are_current.py).
transcripts: venv
	$(BIN)/python tests/integration/modules/record_transcripts.py

lab-tests: venv
	$(BIN)/python -m pytest -q -n 2 lab/tests $(PYTEST_ARGS)

# Each test module starts a lab of its own on free ports, so two run side by side. LYNC_LATE_PHASE_RUNS=1 includes
# the full check/run/rerun tests of Phases 7-10 and site.yml (about 1.5 minutes more).
integration: venv
	LYNC_LATE_PHASE_RUNS=1 $(BIN)/python -m pytest -q -n 2 --dist loadfile tests/integration $(PYTEST_ARGS)

# ansible-test needs the collection at ansible_collections/lync/migration, in a real directory outside any git
# work tree that ignores it (ours ignores tests/output); its pip bootstrap is served by a local stand-in so it
# works without its download host.
# Each run copies into a directory of its own (two runs at once must not share one) and removes it afterwards.
SANITY_COLLECTION := ansible_collections/lync/migration
sanity: venv
	mkdir -p $$HOME/.ansible/test/cache
	test -f $$HOME/.ansible/test/cache/get_pip_24_2.py || cp tests/sanity/get-pip-standin.py $$HOME/.ansible/test/cache/get_pip_24_2.py
	top=$$(mktemp -d "$${TMPDIR:-/tmp}/lync-migration-sanity.XXXXXX") && trap 'rm -rf "$$top"' EXIT && \
	mkdir -p "$$top/$(SANITY_COLLECTION)" && \
	git ls-files -co --exclude-standard -- galaxy.yml meta plugins roles playbooks docs README.md CHANGELOG.rst \
		changelogs tests/sanity tests/unit \
		| tar -cf - -T - | tar -xf - -C "$$top/$(SANITY_COLLECTION)" && \
	cd "$$top/$(SANITY_COLLECTION)" && PATH=$(CURDIR)/$(BIN):$$PATH ansible-test sanity --venv --python 3.11 --color no \
		--skip-test shebang

lint: venv
	cd $(CURDIR) && $(BIN)/ansible-lint --offline -q roles playbooks

clean: lab-stop
	rm -rf $(VENV) .ansible tests/output reports $(LAB_DIR) dist build lab/build
