# report/report.mk: fl-report (every report/*.c) and the
# stats unit test.  Included by the top-level Makefile
# (-include report/report.mk), which provides BUILD, CC, CFLAGS, LDFLAGS and
# the pattern rule $(BUILD)/obj/%.o: %.c.  Only explicit paths are used and
# the default goal is left alone, so where the include sits does not matter.

BUILD ?= build
REPORT_SAVED_GOAL := $(.DEFAULT_GOAL)

REPORT_OBJ    := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard report/*.c))
REPORT_LIBOBJ := $(BUILD)/obj/lib/hist.o $(BUILD)/obj/lib/results.o $(BUILD)/obj/lib/util.o

# the pattern rule knows lib/*.h etc., not the report's own header
$(REPORT_OBJ): $(wildcard report/*.h)

# the metric catalogue (lib/metrics.c) reads the role table, so fl-report
# links the core objects (every role) as the unit tests do
$(BUILD)/fl-report: $(REPORT_OBJ) $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# tests/test_stats.c includes report/stats.c and report/sequential.c.  This
# explicit rule wins over the generic $(BUILD)/test_% rule, adds the
# dependencies on report/ and links only what the test needs.
$(BUILD)/test_stats: tests/test_stats.c tests/check.h report/stats.c report/stats.h report/sequential.c \
		     report/sequential.h $(BUILD)/obj/lib/hist.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(BUILD)/obj/lib/hist.o -o $@ $(LDFLAGS) -ljansson -lm

.DEFAULT_GOAL := $(REPORT_SAVED_GOAL)
