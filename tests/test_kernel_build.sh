#!/usr/bin/env bash
# tests/test_kernel_build.sh: argument errors of bench/vm/kernel-build.sh
# (./run.sh kernel build).  Builds nothing, installs nothing, needs nothing:
# every case must be refused (exit 2, a message naming the option and its
# value) before the script touches packages or build/kernels.  Output: one
# line per case, "PASS name" or "FAIL name: reason"; exit 0 when none failed.
# Then a build of a stand-in source tree killed in its compile step
# (SIGKILL, SIGHUP): nothing of it may keep running.  Then incremental
# builds of a stand-in tree (what make recompiles).  About 15 s.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KB=$ROOT/bench/vm/kernel-build.sh
tmp=$(mktemp -d /tmp/faultline-kbtest.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
export FL_KERNELS_DIR=$tmp/kernels
mkdir -p "$FL_KERNELS_DIR/exists" "$tmp/notakernel"
echo x >"$tmp/file.txt"
failed=0

# case NAME WANT_RC WANT_STDERR_REGEX ARGS...
case_() {
	local name=$1 want=$2 re=$3 rc
	shift 3
	bash "$KB" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL $name: exit $rc, wanted $want ($(head -c 200 "$tmp/err"))"
		failed=1
	elif [ -n "$re" ] && ! grep -qE -- "$re" "$tmp/err" "$tmp/out"; then
		echo "FAIL $name: output does not match /$re/: $(head -c 200 "$tmp/err")"
		failed=1
	else
		echo "PASS $name"
	fi
}

case_ no-arguments 2 'usage'
case_ help 0 '--src DIR\|TARBALL\|debian' --help
case_ build-help 0 '--out NAME' build --help
case_ unknown-subcommand 2 "unknown subcommand 'frob'" frob
case_ unknown-option 2 "unknown option '--frob'" build --out x --frob
case_ missing-out 2 '--out NAME is required' build --src debian
case_ bad-out-name 2 "--out '\.\./x'" build --out ../x
case_ bad-out-dot 2 "--out '\.hidden'" build --out .hidden
case_ bad-arch 2 "--arch 'mips'" build --arch mips --out x
case_ bad-jobs 2 "--jobs 'abc'" build --jobs abc --out x
case_ zero-jobs 2 "--jobs '0'" build --jobs 0 --out x
case_ value-missing 2 '--src needs a value' build --out x --src
case_ src-missing 2 "--src '/nonexistent/k'" build --src /nonexistent/k --out x
case_ src-not-tarball 2 "--src '$tmp/file.txt': not a tarball" build --src "$tmp/file.txt" --out x
case_ src-not-kernel 2 "--src '$tmp/notakernel': not a Linux source tree" build --src "$tmp/notakernel" --out x
case_ patch-missing 2 "--patch '/nonexistent.patch'" build --patch /nonexistent.patch --out x
case_ out-exists 2 "--out 'exists'.*--force" build --out exists

# --config FILE: the user's .config as the base
printf 'CONFIG_ARM64=y\n# CONFIG_X86_64 is not set\n' >"$tmp/arm64.config"
printf 'CONFIG_X86_64=y\nCONFIG_SMP=y\n' >"$tmp/x86.config"
case_ help-config 0 '--config F' build --help
case_ config-missing 2 "--config '/nonexistent/.config': no such readable file" build --config /nonexistent/.config --out x
case_ config-not-config 2 "--config '$tmp/file.txt': not a kernel .config" build --config "$tmp/file.txt" --out x
case_ config-wrong-arch 2 "--config '$tmp/arm64.config': a config for aarch64 \\(CONFIG_ARM64=y\\), not for --arch x86_64" build --config "$tmp/arm64.config" --out x
case_ config-wrong-arch-arm 2 "a config for x86_64 \\(CONFIG_X86_64=y\\), not for --arch aarch64" \
	build --config "$tmp/x86.config" --arch aarch64 --out x
case_ config-wrong-arch-riscv 2 "a config for x86_64 \\(CONFIG_X86_64=y\\), not for --arch riscv64" \
	build --config "$tmp/x86.config" --arch riscv64 --out x
case_ config-accepted 2 "--out 'exists'.*--force" build --config "$tmp/x86.config" --out exists

# --ref REF|A..B: a commit of a git repository, exported without touching
# the checkout.  A toy repository with a kernel's top-level layout.
case_ help-ref 0 '--ref R' build --help
case_ ref-needs-src 2 "--ref 'v1': needs --src DIR, a git repository" build --ref v1 --out x
case_ ref-not-git 2 "--src '$tmp/notakernel' is not a git repository" build --src "$tmp/notakernel" --ref v1 --out x
if ! command -v git >/dev/null; then
	echo "SKIP ref-git-cases: git is not installed"
else
	g=$tmp/linux
	mkdir -p "$g/arch/x86" "$tmp/notlinux"
	git() { command git -c user.name=t -c user.email=t@t -c init.defaultBranch=main "$@"; }
	{
		git -C "$g" init -q && echo 'all:' >"$g/Makefile" && echo 'mainmenu "t"' >"$g/Kconfig" &&
			echo x >"$g/arch/x86/x" && git -C "$g" add -A && git -C "$g" commit -qm one && git -C "$g" tag v1 &&
			echo y >>"$g/Kconfig" && git -C "$g" commit -qam two && git -C "$g" tag v2 &&
			echo 'CONFIG_X86_64=y' >"$g/.config" && echo local >>"$g/Makefile" &&
			git -C "$tmp/notlinux" init -q && echo x >"$tmp/notlinux/README" &&
			git -C "$tmp/notlinux" add -A && git -C "$tmp/notlinux" commit -qm one
	} >/dev/null 2>&1 || echo "FAIL ref-setup: could not make the toy repository"
	head_before=$(git -C "$g" rev-parse HEAD) status_before=$(git -C "$g" status --porcelain | sort | tr '\n' ' ')
	case_ ref-unknown 2 "--ref 'nope': 'nope' is not a commit of $g" build --src "$g" --ref nope --out x
	case_ ref-three-dots 2 "--ref 'v1...v2': use A\.\.B" build --src "$g" --ref v1...v2 --out x
	case_ ref-open-range 2 "--ref 'v1\.\.': expected a commit or A\.\.B" build --src "$g" --ref v1.. --out x
	case_ ref-not-ancestor 2 "--ref 'v2\.\.v1': v2 is not an ancestor of v1" build --src "$g" --ref v2..v1 --out x
	case_ ref-empty-range 2 "--ref 'v1\.\.v1': an empty range" build --src "$g" --ref v1..v1 --out x
	case_ ref-not-linux 2 "--src '$tmp/notlinux': not a Linux source tree at HEAD \(no Makefile\)" \
		build --src "$tmp/notlinux" --ref HEAD --out x
	# a configured, dirty checkout is fine with --ref (only the commit is used);
	# reaching the --out check means every --ref check passed
	case_ ref-accepted 2 "--out 'exists'.*--force" build --src "$g" --ref v1 --out exists
	case_ ref-range-accepted 2 "--out 'exists'.*--force" build --src "$g" --ref v1..v2 --out exists
	case_ no-ref-configured 2 "the tree is configured" build --src "$g" --out x
	if [ "$(git -C "$g" rev-parse HEAD)" = "$head_before" ] &&
		[ "$(git -C "$g" status --porcelain | sort | tr '\n' ' ')" = "$status_before" ]; then
		echo "PASS ref-checkout-untouched"
	else
		echo "FAIL ref-checkout-untouched: HEAD or the working tree of $g changed"
		failed=1
	fi
fi

# --append ARGS (faultline vm, through ./run.sh run/ab): the guest kernel's
# command line is the suite's own plus ARGS.  A stand-in QEMU records its
# arguments and exits, so no guest boots.
FL=${BUILD:-build}/faultline
case "$FL" in /*) ;; *) FL=$ROOT/$FL ;; esac
if [ ! -x "$FL" ]; then
	echo "SKIP vm-append: $FL not built"
else
	printf '#!/bin/sh\n[ "$1" = --version ] && { echo "QEMU emulator version 7.2.0"; exit 0; }\necho "$@" >>%s/qemu.args\nexit 1\n' \
		"$tmp" >"$tmp/qemu"
	chmod +x "$tmp/qemu"
	echo k >"$tmp/vmlinuz"; echo i >"$tmp/initrd"; mkdir -p "$tmp/vmout"
	timeout 60 "$FL" vm --qemu "$tmp/qemu" --kernel "$tmp/vmlinuz" --initrd "$tmp/initrd" --accel tcg \
		--append "transparent_hugepage=never fl_test=1" --out "$tmp/vmout" --duration 1 \
		"$ROOT/bench/scenarios/smoke.json" >"$tmp/vm.out" 2>&1
	if grep -q 'oops=panic quiet rdinit=/init no_timer_check transparent_hugepage=never fl_test=1 ' "$tmp/qemu.args" 2>/dev/null; then
		echo "PASS vm-append"
	else
		echo "FAIL vm-append: QEMU got: $(grep -o -- '-append .*rdinit=/init[^-]*' "$tmp/qemu.args" 2>/dev/null | head -1)"
		failed=1
	fi
	"$FL" vm --help | grep -q -- '--append ARGS' && echo "PASS vm-append-help" ||
		{ echo "FAIL vm-append-help: faultline vm --help lacks --append"; failed=1; }
fi

# nothing was created by the refused builds
left=$(cd "$FL_KERNELS_DIR" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ "$left" = "./exists " ]; then
	echo "PASS nothing-created"
else
	echo "FAIL nothing-created: $FL_KERNELS_DIR holds: $left"
	failed=1
fi

# A build killed in its compile step leaves no process behind, by SIGKILL
# (no trap runs: the group's leader gets SIGTERM from PR_SET_PDEATHSIG) as
# by SIGHUP (a closed terminal or session).  A stand-in source tree whose
# "compile" is a shell with a background sleep, like make's recipe shells
# and their compilers.
fake=$tmp/fake-linux
mkdir -p "$fake/arch/x86" "$fake/scripts/kconfig"
touch "$fake/Kconfig"
cat >"$fake/Makefile" <<'MK'
defconfig olddefconfig kvm_guest.config:
	@touch $(O)/.config
bzImage:
	@cat /proc/self/autogroup >$(O)/autogroup 2>/dev/null; echo $$$$ >$(O)/recipe.pid; sleep 300 & echo $$! >$(O)/sleep.pid; wait
MK
cat >"$fake/scripts/kconfig/merge_config.sh" <<'SH'
#!/bin/sh
# merge_config.sh -m -O OBJ BASE FRAGMENT: the fragment appended, as asked
eval frag=\${$#}
cat "$frag" >>"$3/.config"
SH
chmod +x "$fake/scripts/kconfig/merge_config.sh"
for sig in KILL HUP; do
	export FL_KERNELS_DIR=$tmp/kernels-$sig
	FAULTLINE_TEST_KB_NO_PACKAGES=1 bash "$KB" build --src "$fake" --out fake --jobs 1 >"$tmp/kb-$sig.out" 2>&1 &
	kb=$!
	obj=""
	for _ in $(seq 1 300); do
		obj=$(ls -d "$FL_KERNELS_DIR"/work/*/obj 2>/dev/null | head -1)
		[ -n "$obj" ] && [ -s "$obj/sleep.pid" ] && break
		sleep 0.1
	done
	if [ -z "$obj" ] || [ ! -s "$obj/sleep.pid" ]; then
		echo "FAIL killed-build-$sig: the stand-in compile never started: $(tail -3 "$tmp/kb-$sig.out" | tr '\n' ' ')"
		failed=1
		kill -KILL "$kb" 2>/dev/null
		continue
	fi
	pids="$(cat "$obj/recipe.pid") $(cat "$obj/sleep.pid")"
	# the compile's autogroup yields to other sessions as its nice does
	if [ "$sig" = KILL ]; then
		if [ ! -e /proc/self/autogroup ]; then
			echo "SKIP build-autogroup-nice: no /proc/self/autogroup (kernel without CONFIG_SCHED_AUTOGROUP)"
		elif grep -q ' nice 10$' "$obj/autogroup" && [ "$(cat "$obj/autogroup")" != "$(cat /proc/self/autogroup)" ]; then
			echo "PASS build-autogroup-nice ($(cat "$obj/autogroup"))"
		else
			echo "FAIL build-autogroup-nice: the compile ran in '$(cat "$obj/autogroup" 2>/dev/null)', this test in '$(cat /proc/self/autogroup)'"
			failed=1
		fi
	fi
	kill -"$sig" "$kb"
	wait "$kb"
	rc=$?
	alive=""
	for _ in $(seq 1 50); do
		alive=""
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive+="$p "; done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	if [ -n "$alive" ]; then
		echo "FAIL killed-build-$sig: exit $rc, left running: $alive"
		for p in $alive; do kill -KILL "$p" 2>/dev/null; done
		failed=1
	elif [ -e "$FL_KERNELS_DIR/fake" ] || ls -d "$FL_KERNELS_DIR"/.fake.tmp-* >/dev/null 2>&1; then
		echo "FAIL killed-build-$sig: exit $rc, output left: $(ls -a "$FL_KERNELS_DIR" | tr '\n' ' ')"
		failed=1
	else
		echo "PASS killed-build-$sig (exit $rc; the compile's processes ended)"
	fi
done

# Incremental builds against a stand-in tree whose "compile" is make rules
# (a.o from a.c and h.h, b.o from b.c and h.h; each compile appends its
# name to obj/compiled).  A patch changes a.c and the shared header h.h,
# as the 2025 series changes mm_types.h.  Make must recompile exactly what
# changed since the last build: the patch again recompiles nothing, an
# interrupted patched build resumed recompiles only what it had not done,
# and going back to stock recompiles both.
inc=$tmp/fake-inc
mkdir -p "$inc/arch/x86" "$inc/scripts/kconfig"
cp "$fake/scripts/kconfig/merge_config.sh" "$inc/scripts/kconfig/"
touch "$inc/Kconfig"
echo 'int a;' >"$inc/a.c"
echo 'int b;' >"$inc/b.c"
echo '/* h */' >"$inc/h.h"
touch -d '2020-01-01' "$inc/a.c" "$inc/b.c" "$inc/h.h"
cat >"$inc/Makefile" <<'MK'
defconfig:
	@: >$(O)/.config
olddefconfig kvm_guest.config:
	@touch $(O)/.config
kernelversion:
	@echo 6.12.0
kernelrelease:
	@echo 6.12.0$(LOCALVERSION)
$(O)/a.o: a.c h.h
	@cat a.c h.h >$@; echo a >>$(O)/compiled
$(O)/b.o: b.c h.h
	@if [ -e $(O)/hang ]; then echo $$$$ >$(O)/hang.pid; exec sleep 300; fi; cat b.c h.h >$@; echo b >>$(O)/compiled
bzImage: $(O)/a.o $(O)/b.o
	@mkdir -p $(O)/arch/x86/boot; cat $^ >$(O)/arch/x86/boot/bzImage
MK
cat >"$tmp/inc.patch" <<'PATCH'
--- a/a.c
+++ b/a.c
@@ -1 +1 @@
-int a;
+int a = 1;
--- a/h.h
+++ b/h.h
@@ -1 +1 @@
-/* h */
+/* h, patched */
PATCH
export FL_KERNELS_DIR=$tmp/kernels-inc
ikb() { # NAME [--patch FILE]: one build, its compiles in $tmp/NAME.compiled
	local name=$1 obj
	shift
	FAULTLINE_TEST_KB_NO_PACKAGES=1 bash "$KB" build --src "$inc" --out "$name" --jobs 1 "$@" >"$tmp/inc-$name.out" 2>&1
	local rc=$?
	obj=$(ls -d "$FL_KERNELS_DIR"/work/*/obj | head -1)
	sort "$obj/compiled" 2>/dev/null | tr '\n' ' ' >"$tmp/$name.compiled"
	rm -f "$obj/compiled"
	return $rc
}
inc_case() { # NAME WANT_COMPILED BUILD_ARGS...
	local name=$1 want=$2
	shift 2
	sleep 1
	if ! ikb "$name" "$@"; then
		echo "FAIL incremental-$name: build failed: $(tail -3 "$tmp/inc-$name.out" | tr '\n' ' ')"
		failed=1
	elif [ "$(cat "$tmp/$name.compiled")" != "$want" ]; then
		echo "FAIL incremental-$name: compiled '$(cat "$tmp/$name.compiled")', expected '$want'"
		failed=1
	else
		echo "PASS incremental-$name (compiled: ${want:-nothing})"
	fi
}
inc_case stock1 "a b "
inc_case patched1 "a b " --patch "$tmp/inc.patch"
inc_case patched2 "" --patch "$tmp/inc.patch"
inc_case stock2 "a b "
# interrupted: the patched build is killed while compiling b.o (after a.o);
# resumed, it compiles b.o alone
sleep 1
obj=$(ls -d "$FL_KERNELS_DIR"/work/*/obj | head -1)
touch "$obj/hang"
FAULTLINE_TEST_KB_NO_PACKAGES=1 bash "$KB" build --src "$inc" --out patched3 --jobs 1 --patch "$tmp/inc.patch" >"$tmp/inc-hang.out" 2>&1 &
kb=$!
for _ in $(seq 1 300); do [ -s "$obj/hang.pid" ] && break; sleep 0.1; done
if [ -s "$obj/hang.pid" ]; then
	kill -TERM "$kb"
	wait "$kb"
	rm -f "$obj/compiled" "$obj/hang.pid" "$obj/hang"
	inc_case resumed "b " --patch "$tmp/inc.patch"
	# and the image is the patched one
	grep -q 'int a = 1;' "$FL_KERNELS_DIR/resumed/bzImage" && grep -q 'patched' "$FL_KERNELS_DIR/resumed/bzImage" &&
		echo "PASS incremental-resumed-image (patched a.o and b.o)" ||
		{ echo "FAIL incremental-resumed-image: $(tr '\n' ' ' <"$FL_KERNELS_DIR/resumed/bzImage")"; failed=1; }
else
	echo "FAIL incremental-interrupted: the hanging compile never started: $(tail -3 "$tmp/inc-hang.out" | tr '\n' ' ')"
	kill -KILL "$kb" 2>/dev/null
	failed=1
fi
exit $failed
