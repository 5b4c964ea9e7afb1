# Benchmarks: figures, not pass/fail (bench/README).  `make bench` runs the
# full set (about 6 minutes) and rewrites bench/RESULTS.md;
# BENCH_ARGS=--quick for a short run that writes no file.
BENCH_ARGS ?=

bench: $(BIN) $(SIM)
	@KR_BIN=$(abspath $(BIN)) KR_SIM=$(abspath $(SIM)) KR_BENCH_VIA="make bench" \
		python3 bench/run.py $(BENCH_ARGS)
