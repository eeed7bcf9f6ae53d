# `make bench`: moves 1,000 and 10,000 users of contoso-large against lync-lab's realistic latency model (about 12
# minutes on 2 cores) and prints each run against the ideal bound; not part of `make test`. BENCH_ARGS e.g.
#   "--json docs/bench/<date>-runN.json"         keep the numbers (docs/performance.md cites them)
#   "--sizes 10000 --variants c --baseline-sample 0 --plan-sizes ''"   one run, (c) at N = 10,000
#   "--sizes '' --baseline-sample 0 --plan-sizes 50000 --plan-results failed"   the memory target alone
#   "--demo"                                      also time `make demo` (it needs the inventory's fixed ports)
BENCH_ARGS ?=

.PHONY: bench
bench: venv
	$(BIN)/python tools/bench/bench.py $(BENCH_ARGS)
