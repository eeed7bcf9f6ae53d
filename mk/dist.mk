# What users install (README.md "Using the installed collection", docs/rehearsal.md):
#   make dist        dist/lync-migration-<version>.tar.gz (ansible-galaxy collection build; galaxy.yml's
#                    build_ignore says what stays out) and dist/lync_lab-<version>-py3-none-any.whl (the lab)  ~10 s
#   make dist-test   tests/dist: the tarball's file list, the tarball installed into an empty collections path
#                    and Phases 1 and 6 run from it with a user's own inventory and ansible.cfg, the wheel
#                    installed into a fresh virtual environment and `lync-lab serve` run from it
#                    (about 1 min on 2 idle cores; 3 min when the machine is busy with other suites)
#   make changelog   CHANGELOG.rst from changelogs/ (antsibull-changelog lint, then generate)
DIST_DIR := dist
COLLECTION_VERSION = $(shell sed -n 's/^version: *//p' galaxy.yml)
LAB_VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' lab/pyproject.toml)

.PHONY: dist dist-test changelog

# Old artifacts are removed first so dist/ holds exactly one build of each, the one the tests install.
dist: venv
	rm -f $(DIST_DIR)/lync-migration-*.tar.gz $(DIST_DIR)/lync_lab-*.whl
	mkdir -p $(DIST_DIR)
	$(BIN)/ansible-galaxy collection build --output-path $(DIST_DIR) --force
	# setuptools builds in lab/build/ and would put a module deleted since the last build into the wheel.
	rm -rf lab/build
	$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir $(DIST_DIR) ./lab
	@ls -l $(DIST_DIR)/lync-migration-$(COLLECTION_VERSION).tar.gz $(DIST_DIR)/lync_lab-$(LAB_VERSION)-py3-none-any.whl

# The two files (the installed collection with its lab, the lab's wheel) run side by side.
dist-test: dist
	LYNC_DIST_DIR=$(CURDIR)/$(DIST_DIR) $(BIN)/python -m pytest -q -n 2 --dist loadfile tests/dist $(PYTEST_ARGS)

changelog: venv
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog generate
