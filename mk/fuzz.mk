# libFuzzer targets (fuzz/fuzz_*.c), built with clang into build/fuzz/.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="sexp reply"]
#       fuzz each target for N seconds from a work copy of its corpus
#   make fuzz-smoke [FUZZ_SMOKE_SECONDS=20]
#       replay test/fuzz-regress/ and fuzz/corpus/, then fuzz each target
#       briefly; ends with "fuzz: N passed, N failed" (part of make check)
#
# The project's sources are compiled again here with coverage and
# sanitizers: the gcc objects of the normal build cannot feed libFuzzer.

FUZZ_CC            ?= clang
FUZZ_DIR           ?= build/fuzz
FUZZ_TARGETS       ?= sexp reply eval census conf config history
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_JOBS          ?= 2

FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(CSTD) $(WARN) -O1 -g $(FUZZ_SAN) -I. \
	       $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJS   := $(addprefix $(FUZZ_DIR)/obj/,$(LIB_SRCS:.c=.o))
FUZZ_LIB    := $(FUZZ_DIR)/libkr-fuzz.a
FUZZ_BINS   := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))
FUZZ_RUN     = FUZZ_DIR=$(FUZZ_DIR) FUZZ_JOBS=$(FUZZ_JOBS) sh fuzz/run.sh

.PHONY: fuzz-build

$(FUZZ_DIR)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJS)

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB) $(HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@$(FUZZ_RUN) fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	@$(FUZZ_RUN) smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)
