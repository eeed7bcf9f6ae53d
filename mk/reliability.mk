# Reliability and security suite (docs/reliability.md). `make reliability` runs everything and prints the table;
# the fast subset (tests/reliability/fast) is part of `make test` through reliability-fast.
RELIABILITY_SCOREBOARD ?= $(or $(TMPDIR),/tmp)/lync-reliability-$(shell id -u).jsonl
# Debian packages the Kerberos tests need (MIT KDC, kadmin, the GSSAPI headers python-gssapi builds against).
KERBEROS_DEBS := krb5-kdc krb5-admin-server krb5-user libkrb5-dev gcc

.PHONY: reliability reliability-fast kerberos-deps

kerberos-deps: venv
	@if ! command -v krb5kdc >/dev/null 2>&1 || ! command -v krb5-config >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $(KERBEROS_DEBS); \
	fi
	@$(BIN)/python -c "import gssapi, kerberos" 2>/dev/null || \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check gssapi==1.9.0 krb5==0.7.1 pykerberos==1.2.4

reliability-fast: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests/reliability/fast $(PYTEST_ARGS)

reliability: venv kerberos-deps
	@rm -f $(RELIABILITY_SCOREBOARD)
	LYNC_RELIABILITY_SCOREBOARD=$(RELIABILITY_SCOREBOARD) $(BIN)/python -m pytest -q -n 2 --dist loadgroup \
		-p no:cacheprovider tests/reliability $(PYTEST_ARGS); status=$$?; \
	$(BIN)/python tests/reliability/scoreboard.py $(RELIABILITY_SCOREBOARD) || status=1; exit $$status
