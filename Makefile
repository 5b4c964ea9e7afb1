# kahua-restarter build.  `make check` and `make demo` install missing
# Debian build dependencies first when run as root (scripts/deps.sh).

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DESTDIR  ?=

CC       ?= cc
PKG_CONFIG ?= pkg-config
PKGS     := libcurl libcjson
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LIBS     = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
LDFLAGS  ?=
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)

# Modules shared by the binary, the unit tests and the fuzzers.
LIB_SRCS := err.c log.c sexp.c kahua_site.c kahua_ctl.c procinfo.c health.c options.c select.c lock.c rollout.c report.c history.c prom.c
LIB_OBJS := $(LIB_SRCS:.c=.o)
BIN      := kahua-restarter

SIM_SRCS := $(wildcard test/sim/*.c)
SIM      := test/kahua-sim

UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:.c=)

.PHONY: all deps check unit integration demo install clean

all: $(BIN) $(SIM)

deps:
	@sh scripts/deps.sh

%.o: %.c $(wildcard *.h)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

libkr.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $(LIB_OBJS)

$(BIN): restarter.o libkr.a
	$(CC) $(ALL_LDFLAGS) -o $@ restarter.o libkr.a $(LIBS)

# The simulator shares only the S-expression reader with the program.
$(SIM): $(SIM_SRCS) test/sim/sim.h sexp.c sexp.h
	$(CC) $(ALL_CFLAGS) -Itest/sim -I. $(ALL_LDFLAGS) -o $@ $(SIM_SRCS) sexp.c -lpthread

test/unit/test_%: test/unit/test_%.c libkr.a
	$(CC) $(ALL_CFLAGS) -I. $(shell $(PKG_CONFIG) --cflags cmocka) $(ALL_LDFLAGS) -o $@ $< libkr.a $(LIBS) $(shell $(PKG_CONFIG) --libs cmocka)

unit: $(UNIT_BINS)
	@sh test/run-unit.sh $(UNIT_BINS)

integration: $(BIN) $(SIM)
	@python3 test/integration/run.py

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/$(BIN)
	install -m 0644 kahua-restarter.1 $(DESTDIR)$(MANDIR)/man1/kahua-restarter.1

clean:
	rm -f *.o libkr.a $(BIN) $(SIM) $(UNIT_BINS)
	rm -rf test/integration/__pycache__
