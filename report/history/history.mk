# report/history/history.mk: fl-history (every report/history/*.c: the
# SQLite store of results, show, plot, check with E-divisive change points)
# and the E-divisive unit test.  Included by the top-level Makefile
# (-include report/history/history.mk), which provides BUILD, CC, CFLAGS,
# LDFLAGS, LDLIBS, CORE_OBJ and the pattern rule $(BUILD)/obj/%.o: %.c.
# fl-history is added to `all` for native builds only: the cross builds
# (ARCH=...) are the static binaries that go into VM images, and SQLite is
# a host-side tool's dependency.

BUILD ?= build
HISTORY_SAVED_GOAL := $(.DEFAULT_GOAL)

HISTORY_OBJ  := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard report/history/*.c))
HISTORY_LIBS := $(shell pkg-config $(PKG_STATIC) --libs sqlite3 2>/dev/null || echo -lsqlite3)

$(HISTORY_OBJ): $(wildcard report/history/*.h)

ifeq ($(ARCH),)
all: $(BUILD)/fl-history
endif

# lib/metrics.c (metrics_eval) needs the role table (workloads/), so the
# core objects are linked as the unit tests link them.
$(BUILD)/fl-history: $(HISTORY_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(HISTORY_LIBS) $(LDLIBS)

# tests/test_edivisive.c includes report/history/edivisive.c; this explicit
# rule wins over the generic $(BUILD)/test_% one.
$(BUILD)/test_edivisive: tests/test_edivisive.c tests/check.h report/history/edivisive.c report/history/edivisive.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS) -lm

.DEFAULT_GOAL := $(HISTORY_SAVED_GOAL)
