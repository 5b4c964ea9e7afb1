# kahua-restarter build.  `make check` and `make demo` install missing
# Debian build dependencies first when run as root (scripts/deps.sh).
#
# O=DIR builds out of tree (the sanitizer suite uses O=build/asan).

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=
O        ?= .

CC       ?= cc
PKG_CONFIG ?= pkg-config
PKGS     := libcurl libcjson
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(CPPFLAGS) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -I. $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libcurl's headers are used at compile time, the library is dlopen()ed
# by curl_dl.c only when a run makes an HTTP check.
LIBS     = $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null) -ldl -lm
LDFLAGS  ?=
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)
HEADERS  := $(wildcard *.h)

# Modules shared by the binary, the unit tests and the fuzzers.
LIB_SRCS := err.c log.c clock.c file.c fmt.c jsonw.c names.c outfile.c sexp.c \
	    kahua_site.c kahua_httpd.c kahua_ctl.c kahua_eval.c kahua_grace.c kahua_census.c kahua_log.c procinfo.c procnet.c psi.c \
	    model.c options.c \
	    select.c lock.c drain.c rollout.c heal.c sweep.c \
	    curl_dl.c health.c sitecheck.c \
	    report.c census_report.c history_keys.c history_fmt.c history_read.c history_thin.c history_compact.c history_store.c history.c forecast.c prom.c prom_keep.c tgrid.c chart.c chart_axes.c chart_draw.c
LIB_OBJS := $(addprefix $(O)/,$(LIB_SRCS:.c=.o))
LIB      := $(O)/libkr.a
BIN      := $(O)/kahua-restarter

SIM_SRCS := $(wildcard test/sim/*.c)
SIM      := $(O)/test/kahua-sim

UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(addprefix $(O)/,$(UNIT_SRCS:.c=))

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
VALGRIND  := valgrind -q --error-exitcode=99 --suppressions=$(abspath test/valgrind.supp) --leak-check=full --errors-for-leak-kinds=definite,indirect \
	     --show-leak-kinds=definite,indirect --track-fds=no

.PHONY: all build-deps deps deps-check check check-fast check-real unit integration check-asan check-valgrind \
	demo install clean fuzz fuzz-smoke analyze bench

all: $(BIN) $(SIM)

# Without libcurl's and cJSON's headers the compiler would stop at the
# first #include: say instead which packages to install (as root, install
# them, as `make demo` does).
ifneq ($(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && echo yes),yes)
$(LIB_OBJS) $(O)/restarter.o $(SIM): | build-deps
endif

build-deps:
	@KR_DEPS_BUILD=1 PKG_CONFIG="$(PKG_CONFIG)" CC="$(CC)" sh scripts/deps.sh

deps:
	@sh scripts/deps.sh

deps-check:
	@KR_DEPS_EXTRA="valgrind clang libclang-rt-14-dev cppcheck clang-tools libxml2-utils librsvg2-bin \
		dpkg-dev debhelper lintian fakeroot man-db prometheus prometheus-node-exporter ansible-core" sh scripts/deps.sh

$(O)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

$(BIN): $(O)/restarter.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(O)/restarter.o $(LIB) $(LIBS)

# The simulator shares only the S-expression reader with the program; the
# census, sweep and grace expressions it recognises come from the recordings.
SIM_RECORDED := $(O)/test/gen/recorded.h

SIM_VECTORS := test/vectors/census-sweep.json test/vectors/grace.json

$(SIM_RECORDED): $(SIM_VECTORS) test/sim/recorded.py
	@mkdir -p $(dir $@)
	python3 test/sim/recorded.py $(SIM_VECTORS) $@

$(SIM): $(SIM_SRCS) test/sim/sim.h sexp.c sexp.h $(SIM_RECORDED)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itest/sim -I$(O)/test/gen $(ALL_LDFLAGS) -o $@ $(SIM_SRCS) sexp.c -lpthread

$(O)/test/unit/test_%: test/unit/test_%.c $(wildcard test/unit/*.h) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(shell $(PKG_CONFIG) --cflags cmocka) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS) $(shell $(PKG_CONFIG) --libs cmocka)

unit: $(UNIT_BINS)
	@KR_UNIT_WRAP="$(UNIT_WRAP)" sh test/run-unit.sh $(UNIT_BINS)

integration: $(BIN) $(SIM)
	@KR_BIN=$(abspath $(BIN)) KR_SIM=$(abspath $(SIM)) python3 test/integration/run.py $(TESTS)

# The real-Kahua suite (test/real): the program against real Kahua sites
# of $(KAHUA_PREFIX), else of the first of /opt/kahua, /usr/local, /usr
# holding bin/kahua-spvr and bin/gosh; without one it says it was skipped.
REAL_RUN = env KR_BIN=$(abspath $(BIN)) KR_SIM=$(abspath $(SIM)) python3 test/real/run.py
check-real: $(BIN) $(SIM)
	@$(REAL_RUN) $(TESTS)

# Everything CI runs: the plain suites, the real-Kahua suite, the
# Prometheus rules, the Ansible playbook and the Debian package
# (mk/contrib.mk), then under ASan+UBSan, then the program under
# valgrind, a short pass of every fuzzer, and the static analyzers over
# the program and the simulator.
# One line per suite with its time.
SUITE = sh scripts/suite.sh
check: deps-check
	@$(SUITE) "plain (unit, integration)" $(MAKE) --no-print-directory check-fast
	@KR_SKIP_STATUS=77 $(SUITE) real-kahua $(REAL_RUN)
	@$(SUITE) prometheus $(PROM_RUN)
	@$(SUITE) ansible $(ANSIBLE_RUN)
	@$(SUITE) debian-package $(DEB_RUN)
	@$(SUITE) asan $(MAKE) --no-print-directory check-asan
	@$(SUITE) valgrind $(MAKE) --no-print-directory check-valgrind
	@$(SUITE) fuzz-smoke $(MAKE) --no-print-directory fuzz-smoke
	@$(SUITE) analyze $(MAKE) --no-print-directory analyze analyze-sim

# The plain suites only, for development: unit and integration tests on
# the simulator (about 2 minutes).
check-fast: all $(UNIT_BINS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

check-asan:
	@echo "== unit and integration tests under ASan+UBSan"
	@$(MAKE) --no-print-directory O=build/asan CC=gcc CFLAGS="-O1 -g" \
		EXTRA_CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="$(SAN_FLAGS)" all unit integration

check-valgrind: all $(UNIT_BINS)
	@echo "== unit and integration tests under valgrind memcheck"
	@$(MAKE) --no-print-directory UNIT_WRAP="$(VALGRIND)" unit
	@KR_WRAP="$(VALGRIND)" KR_RUN_TIMEOUT=300 $(MAKE) --no-print-directory integration

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/kahua-restarter
	install -m 0644 kahua-restarter.1 $(DESTDIR)$(MANDIR)/man1/kahua-restarter.1

clean:
	rm -f *.o libkr.a kahua-restarter test/kahua-sim $(UNIT_SRCS:.c=)
	rm -rf build test/gen test/integration/__pycache__

-include mk/*.mk
