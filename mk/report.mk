# The reports people read (issue 17), tested in a real browser: headless Chromium (Debian's chromium package,
# installed here when missing) opens the final migration report and the test compares what it shows with
# report.json (tests/report). About 25 s once Chromium is installed.
#
#   make report-test         # the browser test
#   make report-screenshot   # docs/images/final-report.png from the latest demo's final report (make demo first)
.PHONY: report-test report-screenshot chromium

chromium:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
		else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; fi; }

report-test: venv chromium
	$(BIN)/python -m pytest -q tests/report $(PYTEST_ARGS)

report-screenshot: chromium
	@report=$$(ls -d reports/*-migration 2>/dev/null | sort | tail -1); \
	test -n "$$report" || { echo "no final migration report under reports/: run make demo first"; exit 1; }; \
	mkdir -p docs/images && \
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1700 \
		--screenshot=docs/images/final-report.png "file://$(CURDIR)/$$report/report.html" 2>/dev/null && \
	echo "docs/images/final-report.png from $$report"
