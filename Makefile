# faultline: GNU Make.  `make` builds build/faultline and build/fl-slowfs;
# `make test` runs every test; `make sanitize` runs the unit tests under
# ASan+UBSan; `make bench` prints the suite's own overheads; `make STATIC=1`
# links statically (for VM initramfs images).

# Cross builds: `make ARCH=aarch64` builds static binaries into build-aarch64/
# with Debian's cross compiler and the arm64 -dev packages (multiarch); see
# docs/cross.md; ARCH=ppc64le likewise (ppc64el -dev packages); ARCH=s390x
# links against build-s390x/sysroot (S390X_SYSROOT: bookworm's s390x -dev
# packages unpacked by bench/cross/s390x-sysroot.sh, as multiarch cannot
# install them here).  `make ARCH=x86_64` does the same with the x86_64 compiler
# (the static binaries a VM initramfs carries).  `make ARCH=riscv64` links
# against build-riscv64/sysroot (RISCV64_SYSROOT), which
# bench/cross/riscv64-sysroot.sh builds from Debian's source packages, as
# Debian 12 has no riscv64 port.  ARCH empty = native, dynamic.
ARCH     ?=
ifneq ($(ARCH),)
CROSS_TRIPLET_aarch64 := aarch64-linux-gnu
CROSS_TRIPLET_x86_64  := x86_64-linux-gnu
CROSS_TRIPLET_riscv64 := riscv64-linux-gnu
CROSS_TRIPLET_ppc64le := powerpc64le-linux-gnu
CROSS_TRIPLET_s390x   := s390x-linux-gnu
CROSS_TRIPLET := $(CROSS_TRIPLET_$(ARCH))
ifeq ($(CROSS_TRIPLET),)
$(error ARCH=$(ARCH) is not supported (supported: x86_64, aarch64, riscv64, ppc64le, s390x; see docs/cross.md))
endif
BUILD    ?= build-$(ARCH)
CC       := $(CROSS_TRIPLET)-gcc
STATIC   := 1
export PKG_CONFIG_LIBDIR := /usr/lib/$(CROSS_TRIPLET)/pkgconfig:/usr/share/pkgconfig
PKG_STATIC := --static
ifeq ($(ARCH),riscv64)
RISCV64_SYSROOT ?= build-riscv64/sysroot
ifeq ($(wildcard $(RISCV64_SYSROOT)/VERSIONS),)
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),all)),)
$(error ARCH=riscv64 needs $(RISCV64_SYSROOT): build it with bench/cross/riscv64-sysroot.sh (or ./run.sh cross riscv64); see docs/cross.md)
endif
endif
RISCV64_SYSROOT_ABS := $(abspath $(RISCV64_SYSROOT))
CC       := $(CROSS_TRIPLET)-gcc -isystem $(RISCV64_SYSROOT_ABS)/usr/include -L$(RISCV64_SYSROOT_ABS)/usr/lib
export PKG_CONFIG_LIBDIR := $(RISCV64_SYSROOT_ABS)/usr/lib/pkgconfig
export PKG_CONFIG_SYSROOT_DIR := $(RISCV64_SYSROOT_ABS)
endif
ifeq ($(ARCH),s390x)
S390X_SYSROOT ?= build-s390x/sysroot
ifeq ($(wildcard $(S390X_SYSROOT)/VERSIONS),)
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),all)),)
$(error ARCH=s390x needs $(S390X_SYSROOT): make it with bench/cross/s390x-sysroot.sh (or ./run.sh cross s390x); see docs/cross.md)
endif
endif
S390X_SYSROOT_ABS := $(abspath $(S390X_SYSROOT))
CC       := $(CROSS_TRIPLET)-gcc -isystem $(S390X_SYSROOT_ABS)/usr/include -L$(S390X_SYSROOT_ABS)/usr/lib/$(CROSS_TRIPLET)
export PKG_CONFIG_LIBDIR := $(S390X_SYSROOT_ABS)/usr/lib/$(CROSS_TRIPLET)/pkgconfig
export PKG_CONFIG_SYSROOT_DIR := $(S390X_SYSROOT_ABS)
endif
endif
BUILD    ?= build
CC       ?= gcc
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
WARN     := -Wall -Wextra -Werror -Wno-format-truncation
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -DFL_VERSION=\"$(VERSION)\" \
            -I. $(EXTRA_CFLAGS)
LDLIBS   := -lcgroup -ljansson -lpthread -lm
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config $(PKG_STATIC) --libs fuse3 2>/dev/null)
ifeq ($(STATIC),1)
LDFLAGS  += -static
endif

# Sources by folder (docs: README "Layout").  Every .c file under these
# folders is part of the faultline binary except the program entry points
# (bench/faultline.c) and the separate programs: slowfs (workloads/slowfs/,
# its own FUSE daemon) and the report (report/, see report/report.mk).
SRC_DIRS  := lib cgroups workloads bench/runner bench/probes bench/storage bench/vm bench/selfbench bench/export bench/antagonists
CORE_SRC  := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
ALL_HDR   := $(wildcard lib/*.h cgroups/*.h workloads/*.h bench/*/*.h workloads/slowfs/*.h)
SLOWFS_SRC := $(wildcard workloads/slowfs/*.c) lib/pattern.c lib/config.c lib/config_antagonists.c lib/config_io.c lib/util.c
UNIT_TESTS := $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))

all: $(BUILD)/faultline $(BUILD)/fl-slowfs $(BUILD)/slowfs_reader $(BUILD)/fl-report $(UNIT_TESTS)

$(BUILD)/obj/%.o: %.c $(ALL_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/faultline: $(BUILD)/obj/bench/faultline.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/fl-slowfs: $(SLOWFS_SRC) $(ALL_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) $(FUSE_CFLAGS) $(SLOWFS_SRC) -o $@ $(LDFLAGS) $(FUSE_LIBS) -ljansson -lpthread -lm

$(BUILD)/slowfs_reader: tests/slowfs_reader.c lib/pattern.c lib/pattern.h
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) tests/slowfs_reader.c lib/pattern.c -o $@ $(LDFLAGS) -lpthread -lm

$(BUILD)/test_%: tests/test_%.c tests/check.h $(CORE_OBJ)
	$(CC) $(CFLAGS) $< $(CORE_OBJ) -o $@ $(LDFLAGS) $(LDLIBS)

# every test: unit and system tests on $(BUILD), then the unit tests again
# as built under ASan+UBSan, with one closing line for all of them
test: all asan-build
	tests/run-tests.sh $(BUILD) all build-asan

unit: $(UNIT_TESTS)
	tests/run-tests.sh $(BUILD) unit

unit-build: $(UNIT_TESTS)

SANITIZE := EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	LDFLAGS="-fsanitize=address,undefined"
asan-build:
	$(MAKE) BUILD=build-asan $(SANITIZE) unit-build

sanitize:
	$(MAKE) BUILD=build-asan $(SANITIZE) unit

bench: $(BUILD)/faultline
	tests/bench.sh $(BUILD)

-include report/report.mk
-include report/history/history.mk
-include tests/fuzz/fuzz.mk

clean:
	rm -rf build build-asan build-aarch64 build-x86_64

.PHONY: all test unit unit-build asan-build sanitize bench clean
