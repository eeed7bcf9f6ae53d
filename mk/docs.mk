# The docs site (issue 17): antsibull-docs writes a page for every module, filter, callback and role argument spec,
# the user guide (docs/*.md) is added, and Sphinx builds HTML into build/docs/html. Warnings are errors.
# Everything comes from PyPI through requirements.txt; the build reads nothing from a network.
#
#   make docs        # build/docs/html/index.html
#   make docs-test   # builds it and checks pages (tests/docs)
DOCS_BUILD ?= build/docs
# Where antsibull-docs finds lync.migration: the working tree, through the link make venv creates.
DOCS_COLLECTIONS ?= $(CURDIR)/.ansible/collections

.PHONY: docs docs-test

docs: venv
	rm -rf $(DOCS_BUILD) && mkdir -p $(DOCS_BUILD)/rst && chmod og-w $(DOCS_BUILD)/rst
	ANSIBLE_COLLECTIONS_PATH=$(DOCS_COLLECTIONS) PATH=$(CURDIR)/$(BIN):$$PATH \
		$(BIN)/antsibull-docs --config-file tools/docsite/antsibull-docs.cfg collection --cleanup everything \
		--fail-on-error --use-current --squash-hierarchy --dest-dir $(DOCS_BUILD)/rst lync.migration
	$(BIN)/python tools/docsite/add_guide.py $(DOCS_BUILD)/rst docs
	$(BIN)/sphinx-build -q -b html -c tools/docsite -W --keep-going -w $(DOCS_BUILD)/warnings.log \
		$(DOCS_BUILD)/rst $(DOCS_BUILD)/html
	@echo "docs: $(CURDIR)/$(DOCS_BUILD)/html/index.html"

docs-test: venv
	$(BIN)/python -m pytest -q tests/docs $(PYTEST_ARGS)
