# `make bench`: moves 1,000 and 10,000 users of contoso-large against lync-lab's realistic latency model (one run
# takes about 15 minutes on 2 cores) and prints each run against the ideal bound; not part of `make test`.
# BENCH_ARGS e.g. "--time-scale 0.2 --sizes 1000,10000 --baseline-sample 40 --demo --json reports/bench.json".
BENCH_ARGS ?=

.PHONY: bench
bench: venv
	$(BIN)/python tools/bench/bench.py $(BENCH_ARGS)
