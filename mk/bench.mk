# Benchmarks: figures, not pass/fail (bench/README).  `make bench` runs the
# full set (about 6 minutes, and about 8 more on a real Kahua when one is
# at hand: KAHUA_PREFIX, else /opt/kahua, /usr/local, /usr) and rewrites
# bench/RESULTS.md; BENCH_ARGS=--quick for a short run that writes no file,
# BENCH_ARGS="--only real --merge" to rewrite only the real-Kahua section.
BENCH_ARGS ?=

bench: $(BIN) $(SIM)
	@KR_BIN=$(abspath $(BIN)) KR_SIM=$(abspath $(SIM)) KR_BENCH_VIA="make bench" \
		KR_HIST_REPLAY=$(abspath $(HIST_REPLAY)) \
		python3 bench/run.py $(BENCH_ARGS)

# bench/hist_replay: a generated history appended line by line through the
# program's history store, with a size limit (bench_history.py).
HIST_REPLAY := $(O)/bench/hist_replay
$(HIST_REPLAY): bench/hist_replay.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

bench: $(HIST_REPLAY)

# Curing without restarts (bench/README): about 30 minutes on a real Kahua;
# rewrites section 9 of bench/RESULTS.md and doc/cure-rss.svg/.png.
CURE_ARGS ?=

.PHONY: bench-cure
bench-cure: $(BIN)
	@KR_BIN=$(abspath $(BIN)) KR_BENCH_VIA="make bench-cure" \
		python3 bench/bench_cure.py --write $(CURE_ARGS)
