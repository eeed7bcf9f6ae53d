# The ansible-core range meta/runtime.yml's requires_ansible admits, tested (docs/install.md has the measured table).
# Each minor version gets a virtual environment of its own (.venv-core-<minor>) with that ansible-core pinned and
# requirements.txt's other runtime and test dependencies; in it run the unit tests, one phase playbook against a lab
# of its own (tests/integration/test_phase6.py: check mode, move, rerun, rollback) and ansible-test sanity with that
# version's tests/sanity/ignore-<minor>.txt. Versions run one after another (each alone keeps 2 cores busy).
#   make test-core-range                         every version below
#   make test-core-range CORE_VERSIONS=2.17.14   one version
# The newest patch of each minor version on PyPI that runs a controller on Python 3.11.
CORE_VERSIONS ?= 2.16.19 2.17.14 2.18.19 2.19.15
CORE_PLAYBOOK_TESTS ?= tests/integration/test_phase6.py
CORE_RANGE_LOG := tests/output/core-range
# requirements.txt without ansible-core and without the tools (lint, molecule, AWX, changelog and docs builders, some
# of which pin an ansible-core of their own): none of them takes part in the unit, playbook or sanity runs.
CORE_RANGE_EXCLUDE := ^(ansible-core|ansible-lint|ansible-builder|ansible-runner|molecule|antsibull-[a-z-]+|sphinx[a-z-]*|myst-parser)[=<>~!\[ ]
# The pip versions ansible-test 2.16-2.19 bootstrap in their sanity virtual environments (get_venv_packages): each
# finds its get-pip script in the cache, where tests/sanity/get-pip-standin.py stands in for the download.
CORE_RANGE_PIP_BOOTSTRAPS := 23_1_2 24_2

.PHONY: test-core-range core-range-one

test-core-range:
	@mkdir -p $(CORE_RANGE_LOG); failed=""; \
	for version in $(CORE_VERSIONS); do \
		$(MAKE) --no-print-directory core-range-one CORE_VERSION=$$version || failed="$$failed $$version"; \
	done; \
	echo "== ansible-core range: results"; \
	for version in $(CORE_VERSIONS); do cat $(CORE_RANGE_LOG)/$$version.result 2>/dev/null || echo "$$version no result"; done; \
	if [ -n "$$failed" ]; then echo "make test-core-range: failed for$$failed"; exit 1; fi; \
	echo "make test-core-range: every version passed"

# One version: CORE_VERSION=2.16.19. Each step runs even when one before it failed, so one run shows all three; the
# result line (tests/output/core-range/<version>.result) says pass/fail and seconds per step.
core-range-one:
	@test -n "$(CORE_VERSION)" || { echo "core-range-one needs CORE_VERSION=<x.y.z>"; exit 2; }
	@# make sanity copies what git ls-files lists: outside a git work tree it would test nothing and pass.
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "core-range-one runs in a git work tree"; exit 2; }
	@minor=$$(echo $(CORE_VERSION) | cut -d. -f1,2); venv=.venv-core-$$minor; stamp=$$venv/.installed-$(CORE_VERSION); \
	mkdir -p $(CORE_RANGE_LOG); \
	if [ ! -f $$stamp ] || [ requirements.txt -nt $$stamp ] || [ lab/pyproject.toml -nt $$stamp ]; then \
		echo "== $$venv: ansible-core==$(CORE_VERSION)"; \
		rm -rf $$venv && $(PYTHON) -m venv $$venv && \
		$$venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=23" && \
		grep -Ev '$(CORE_RANGE_EXCLUDE)' requirements.txt > $$venv/requirements-core-range.txt && \
		$$venv/bin/python -m pip install --quiet --disable-pip-version-check "ansible-core==$(CORE_VERSION)" \
			-r $$venv/requirements-core-range.txt && \
		$$venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e lab && \
		touch $$stamp || { echo "$(CORE_VERSION) venv=fail" > $(CORE_RANGE_LOG)/$(CORE_VERSION).result; exit 1; }; \
	fi; \
	$$venv/bin/ansible --version | head -1; \
	mkdir -p $$HOME/.ansible/test/cache; \
	for pip in $(CORE_RANGE_PIP_BOOTSTRAPS); do \
		test -f $$HOME/.ansible/test/cache/get_pip_$$pip.py || cp tests/sanity/get-pip-standin.py $$HOME/.ansible/test/cache/get_pip_$$pip.py; \
	done; \
	echo "== $(CORE_VERSION): unit tests"; t0=$$(date +%s); \
	$$venv/bin/python -m pytest -q -p no:cacheprovider tests/unit $(PYTEST_ARGS) && unit=pass || unit=fail; \
	t1=$$(date +%s); echo "== $(CORE_VERSION): phase playbook ($(CORE_PLAYBOOK_TESTS))"; \
	$$venv/bin/python -m pytest -q -p no:cacheprovider $(CORE_PLAYBOOK_TESTS) $(PYTEST_ARGS) && playbook=pass || playbook=fail; \
	t2=$$(date +%s); echo "== $(CORE_VERSION): ansible-test sanity"; \
	$(MAKE) --no-print-directory -o $$stamp sanity VENV=$$venv STAMP=$$stamp && sanity=pass || sanity=fail; \
	t3=$$(date +%s); \
	echo "$(CORE_VERSION) unit=$$unit($$((t1-t0))s) playbook=$$playbook($$((t2-t1))s) sanity=$$sanity($$((t3-t2))s) total=$$((t3-t0))s" \
		| tee $(CORE_RANGE_LOG)/$(CORE_VERSION).result; \
	[ $$unit = pass ] && [ $$playbook = pass ] && [ $$sanity = pass ]
