# Static analysis: cppcheck and clang's analyzer over every top-level .c
# file; both must print nothing.  `make -j2 analyze` takes well under a
# minute.  `make analyze-sim` runs the same over the simulator (test/sim).
#
# variableScope is off: declaring locals at the top of a block is the
# project's style, and moving them fixes nothing.

ANALYZE_DIR   ?= build/analyze
ANALYZE_CC    ?= clang
ANALYZE_SRCS  := $(wildcard *.c)
ANALYZE_SIM   := $(wildcard test/sim/*.c)
CPPCHECK_ARGS := --enable=warning,style,performance,portability --std=c11 --inline-suppr \
		 --error-exitcode=1 --suppress=missingIncludeSystem --suppress=variableScope -q
ANALYZER_ARGS := --analyze -Xanalyzer -analyzer-output=text -o /dev/null

# Clang writes its findings to stderr: any output at all fails the file.
define analyze_one
	@mkdir -p $(dir $@)
	@$(ANALYZE_CC) $(ANALYZER_ARGS) $(1) $< >$@.out 2>&1 && [ ! -s $@.out ] || \
		{ cat $@.out >&2; rm -f $@.out; exit 1; }
	@mv $@.out $@
endef

.PHONY: analyze analyze-cppcheck analyze-clang analyze-sim

analyze: analyze-cppcheck analyze-clang
	@echo "analyze: cppcheck and clang --analyze clean ($(words $(ANALYZE_SRCS)) files)"

analyze-cppcheck:
	cppcheck $(CPPCHECK_ARGS) -I. $(ANALYZE_SRCS)

analyze-clang: $(addprefix $(ANALYZE_DIR)/,$(ANALYZE_SRCS:.c=.txt))

$(ANALYZE_DIR)/%.txt: %.c $(HEADERS)
	$(call analyze_one,$(ALL_CFLAGS))

analyze-sim: $(addprefix $(ANALYZE_DIR)/,$(ANALYZE_SIM:.c=.txt))
	cppcheck $(CPPCHECK_ARGS) -I. -Itest/sim -I$(O)/test/gen $(ANALYZE_SIM)

$(ANALYZE_DIR)/test/sim/%.txt: test/sim/%.c test/sim/sim.h sexp.h $(SIM_RECORDED)
	$(call analyze_one,$(ALL_CFLAGS) -Itest/sim -I$(O)/test/gen)
