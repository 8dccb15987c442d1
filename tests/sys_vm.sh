#!/usr/bin/env bash
# The VM backend (docs/vm.md): Debian's 6.12 cloud-amd64 kernel booted in
# qemu-system-x86_64 through ./run.sh, the guest's exit status carried back,
# a panicking guest and a hanging guest each ending within the watchdog bound
# with no QEMU process left, and every bundled scenario in a short form inside
# the guest with full isolation.  ./run.sh test installs QEMU; this test
# fetches the kernel with apt-get download (network) on its first run.
# FAULTLINE_SKIP_VM=1 skips it (say why when you do).  Prints PASS/FAIL/SKIP.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/faultline-vm-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. tests/lib.sh
. tests/scenario_checks.sh

if [ "${FAULTLINE_SKIP_VM:-0}" = 1 ]; then
	skip vm "FAULTLINE_SKIP_VM=1"; exit 0
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
	skip vm "qemu-system-x86_64 missing (./run.sh test installs qemu-system-x86)"; exit 0
fi
# QEMU processes of this test's guests: their command lines name a
# /var/tmp/faultline-vm-* work directory.  Only looked at, never killed.
# QEMU left by a faultline vm this test started: its work directory
# (/var/tmp/faultline-vm-PID-*) names the faultline's pid, so another user's
# or run's guests on the same machine are not taken for a leak
MY_VM_PIDS=()
fl_vm() { # faultline vm ARGS..., in the foreground, its pid remembered
	"$BUILD/faultline" vm "$@" &
	local p=$!
	MY_VM_PIDS+=("$p")
	wait "$p"
}
qemu_left() {
	local p
	for p in "${MY_VM_PIDS[@]}"; do
		ps -eo pid=,args= | grep -F "faultline-vm-$p-" | grep -F qemu-system | grep -v grep
	done
}
j() { jq -r "$1" "$2" 2>/dev/null; }
one_result() { ls "$1"/*.json 2>/dev/null | head -n 1; }

# 1. Debian's 6.12 cloud kernel, a short smoke run: full isolation, major
#    faults, exit status 0 carried back, the VM recorded in the result
t0=$SECONDS
./run.sh run smoke --debian-kernel 6.12 --duration 3 --out "$tmp/r1" --quiet >"$tmp/r1.out" 2>&1
rc=$?
f=$(one_result "$tmp/r1")
if [ "$rc" -ne 0 ] || [ -z "$f" ]; then
	fail vm_debian_6.12_smoke "exit $rc, result '${f}': $(tail -5 "$tmp/r1.out" | tr '\n' ' ')"
	echo "$failed" >/dev/null
	exit 1
fi
KDIR=$(ls -d "$BUILD"/vm-cache/debian-kernels/6.12.*-cloud-amd64-amd64 | sort -V | tail -n 1)
INITRD=$BUILD/vm-cache/initramfs-x86_64-$(basename "$KDIR").cpio.gz
st=$(j .status "$f") be=$(j .environment.backend "$f") iso=$(j .environment.isolation "$f")
kr=$(j .environment.kernel_release "$f") maj=$(j '.summary.counters["fault.major_faults"]' "$f")
ge=$(j .environment.vm.guest_exit_status "$f") acc=$(j .environment.vm.accel "$f")
qv=$(j .environment.vm.qemu_version "$f") man=$(j .environment.vm.kernel_manifest.package "$f")
if [ "$st" = ok ] && [ "$be" = vm ] && [ "$iso" = full ] && [[ "$kr" == 6.12.*cloud-amd64 ]] &&
	[ "${maj:-0}" -gt 0 ] && [ "$ge" = 0 ] && [[ "$qv" == QEMU* ]] && [[ "$man" == linux-image-6.12* ]] &&
	"$BUILD/faultline" validate "$f" >/dev/null; then
	pass "vm_debian_6.12_smoke (kernel $kr, $acc, isolation $iso, $maj major faults, $((SECONDS - t0)) s)"
else
	fail vm_debian_6.12_smoke "status=$st backend=$be isolation=$iso kernel=$kr major=$maj guest_exit=$ge qemu=$qv manifest=$man"
fi
if jq -e '.config.storage.path == "/data/faultline"' "$f" >/dev/null &&
	grep -q 'controllers: .*memory.*' "${f%.json}.console.log"; then
	pass "vm_guest_setup (victim files on the virtio-blk ext4 disk, controllers enabled, console log kept)"
else
	fail vm_guest_setup "storage.path $(j .config.storage.path "$f"); console log ${f%.json}.console.log"
fi

# 1b. a KVM that cannot run guests (nested virtualization): /dev/kvm is
#     there, but QEMU refuses -accel kvm the way it does on such a machine.
#     A wrapper stands in for qemu-system-x86_64 (the real one for anything
#     else), and FAULTLINE_VM_KVM_DEVICE makes auto look at /dev/null, so the
#     KVM path is taken whether this machine has /dev/kvm or not.  The run
#     must fall back to TCG, succeed, and say why in environment.vm.
real_qemu=$(command -v qemu-system-x86_64)
mkdir -p "$tmp/nokvm"
cat >"$tmp/nokvm/qemu-system-x86_64" <<WRAPPER
#!/bin/sh
case " \$* " in
*" -accel kvm"* | *" -enable-kvm "*)
	echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
	echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion 'ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
	exit 134 ;;
esac
exec "$real_qemu" "\$@"
WRAPPER
chmod +x "$tmp/nokvm/qemu-system-x86_64"
if [ "$(uname -m)" != x86_64 ]; then
	skip vm_kvm_fallback "the host is $(uname -m): auto tries KVM only for a native guest"
else
	t0=$SECONDS
	FAULTLINE_VM_KVM_DEVICE=/dev/null fl_vm --qemu "$tmp/nokvm/qemu-system-x86_64" \
		--kernel "$KDIR/vmlinuz" --initrd "$INITRD" --out "$tmp/r1b" --quiet --duration 2 \
		bench/scenarios/smoke.json >"$tmp/r1b.out" 2>&1
	rc=$?
	f=$(one_result "$tmp/r1b")
	if [ "$rc" -eq 0 ] && [ "$(j .status "$f")" = ok ] &&
		jq -e '.environment.vm | .accel == "tcg" and .accel_requested == "auto" and
			.accel_tried == ["kvm", "tcg"] and (.accel_fallback_reason | test("failed to set MSR 0x10a to 0x69")) and
			(.qemu_command | test("-accel tcg")) and .cpu == "max"' "$f" >/dev/null &&
		grep -q 'KVM does not work here' "$tmp/r1b.out" && "$BUILD/faultline" validate "$f" >/dev/null; then
		pass "vm_kvm_fallback (KVM refused: tcg in $((SECONDS - t0)) s, reason '$(j .environment.vm.accel_fallback_reason "$f")')"
	else
		fail vm_kvm_fallback "exit $rc, status '$(j .status "$f")', vm: $(jq -c '.environment.vm | {accel, accel_tried, accel_fallback_reason}' "$f" 2>/dev/null): $(tail -3 "$tmp/r1b.out" | tr '\n' ' ')"
	fi
	# the A/B decision: --accel-probe writes it without booting a guest, and
	# --accel-from refuses it for another arch (exit 2, nothing written)
	FAULTLINE_VM_KVM_DEVICE=/dev/null fl_vm --qemu "$tmp/nokvm/qemu-system-x86_64" \
		--kernel "$KDIR/vmlinuz" --initrd "$INITRD" --accel-probe "$tmp/accel.json" \
		bench/scenarios/smoke.json >"$tmp/probe.out" 2>&1
	rc=$?
	fl_vm --arch aarch64 --kernel "$KDIR/vmlinuz" --initrd "$INITRD" --out "$tmp/r1c" \
		--accel-from "$tmp/accel.json" bench/scenarios/smoke.json >"$tmp/r1c.out" 2>&1
	rc2=$?
	if [ "$rc" -eq 0 ] && jq -e '.accel == "tcg" and .arch == "x86_64" and .accel_tried == ["kvm", "tcg"] and
		(.accel_fallback_reason | test("MSR"))' "$tmp/accel.json" >/dev/null &&
		[ "$rc2" -eq 2 ] && [ ! -e "$tmp/r1c" ]; then
		pass "vm_accel_probe (decided once: $(j .accel "$tmp/accel.json") after trying $(jq -c .accel_tried "$tmp/accel.json"); another arch refused)"
	else
		fail vm_accel_probe "probe exit $rc, other-arch exit $rc2, decision $(jq -c . "$tmp/accel.json" 2>/dev/null)"
	fi
fi

# 2. a guest run that fails: its exit status and message come back
fl_vm --kernel "$KDIR/vmlinuz" --initrd "$INITRD" --out "$tmp/r2" --quiet --duration 2 \
	--set 'storage.path="/proc/faultline-nowhere"' bench/scenarios/smoke.json >"$tmp/r2.out" 2>&1
rc=$?
f=$(one_result "$tmp/r2")
ge=$(j .environment.vm.guest_exit_status "$f")
if [ "$rc" -ne 0 ] && [ -n "$f" ] && [ "$ge" = "$rc" ] && [ "$(j .status "$f")" != ok ]; then
	pass "vm_exit_status_carried (guest exit $ge, host exit $rc, status $(j .status "$f"))"
else
	fail vm_exit_status_carried "host exit $rc, guest exit '$ge', result '$f': $(tail -3 "$tmp/r2.out" | tr '\n' ' ')"
fi

# 3. a guest that panics (an initramfs that is not one): status error with
#    the panic as the reason, well inside the watchdog, no QEMU left
head -c 65536 /dev/urandom >"$tmp/bad-initrd"
t0=$SECONDS
fl_vm --kernel "$KDIR/vmlinuz" --initrd "$tmp/bad-initrd" --out "$tmp/r3" --quiet --duration 2 \
	--vm-timeout 120 bench/scenarios/smoke.json >"$tmp/r3.out" 2>&1
rc=$?
el=$((SECONDS - t0))
f=$(one_result "$tmp/r3")
if [ "$rc" -eq 1 ] && [ "$(j .status "$f")" = error ] && j .status_reason "$f" | grep -q 'Kernel panic' &&
	[ "$el" -lt 120 ] && [ -z "$(qemu_left)" ] && "$BUILD/faultline" validate "$f" >/dev/null; then
	pass "vm_guest_panic (status error in $el s: $(j .status_reason "$f" | cut -c1-60))"
else
	fail vm_guest_panic "exit $rc after $el s, status '$(j .status "$f")', reason '$(j .status_reason "$f")', qemu left: $(qemu_left)"
fi

# 4. a guest that outlives the watchdog: status timeout at the bound, no QEMU left
t0=$SECONDS
fl_vm --kernel "$KDIR/vmlinuz" --initrd "$INITRD" --out "$tmp/r4" --quiet --duration 60 \
	--vm-timeout 8 bench/scenarios/smoke.json >"$tmp/r4.out" 2>&1
rc=$?
el=$((SECONDS - t0))
f=$(one_result "$tmp/r4")
if [ "$rc" -eq 1 ] && [ "$(j .status "$f")" = timeout ] && [ "$el" -lt 20 ] && [ -z "$(qemu_left)" ] &&
	[ -z "$(ls -d /var/tmp/faultline-vm-"${MY_VM_PIDS[-1]}"-* 2>/dev/null)" ]; then
	pass "vm_guest_hang_watchdog (timeout after $el s with an 8 s watchdog, QEMU and work directory gone)"
else
	fail vm_guest_hang_watchdog "exit $rc after $el s, status '$(j .status "$f")', qemu left: $(qemu_left)"
fi

# 4b. SIGINT to faultline vm: QEMU killed, status interrupted, nothing left
"$BUILD/faultline" vm --kernel "$KDIR/vmlinuz" --initrd "$INITRD" --out "$tmp/r4b" --quiet --duration 60 \
	bench/scenarios/smoke.json >"$tmp/r4b.out" 2>&1 &
pid=$!
MY_VM_PIDS+=("$pid")
sleep 5
kill -INT "$pid"
wait "$pid"
rc=$?
f=$(one_result "$tmp/r4b")
if [ "$rc" -eq 1 ] && [ "$(j .status "$f")" = interrupted ] && [ -z "$(qemu_left)" ] &&
	[ -z "$(ls -d /var/tmp/faultline-vm-"$pid"-* 2>/dev/null)" ]; then
	pass "vm_interrupted (SIGINT: status interrupted, QEMU and work directory gone)"
else
	fail vm_interrupted "exit $rc, status '$(j .status "$f")', qemu left: $(qemu_left)"
fi

# 5. bad input fails on the host, before anything boots, with exit 2
fl_vm --kernel "$KDIR/vmlinuz" --initrd "$INITRD" --out "$tmp/r5" --set victim.nope=1 \
	bench/scenarios/smoke.json >"$tmp/r5.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'victim.nope' "$tmp/r5.out" && [ ! -e "$tmp/r5" ]; then
	pass "vm_bad_input (exit 2 before booting: $(head -1 "$tmp/r5.out" | cut -c1-60))"
else
	fail vm_bad_input "exit $rc, output: $(head -2 "$tmp/r5.out" | tr '\n' ' ')"
fi

# 6. every bundled scenario, short, inside the guest with full isolation
#    (zram swap for the swap-in variant), checked for what holds on any
#    kernel (tests/scenario_checks.sh; tests/vm_kernels.sh runs the same on
#    every kernel that boots here)
for s in bench/scenarios/*.json; do
	name=$(basename "$s" .json)
	if jq -e .antagonists "$s" >/dev/null; then # fio, stress-ng: not in the guest's initramfs
		skip "vm_scenario_$name" "its antagonists' programs are not in the guest's initramfs (docs/scenarios.md)"
		continue
	fi
	t0=$SECONDS
	fl_vm --kernel "$KDIR/vmlinuz" --initrd "$INITRD" --out "$tmp/s-$name" --quiet \
		--swap-bytes 256M --duration 2 --warmup 0 --iterations 1 --set victim.files.size_bytes=16M \
		--set victim.fault_threads=16 "$s" >"$tmp/s-$name.out" 2>&1
	rc=$?
	f=$(one_result "$tmp/s-$name")
	if [ "$rc" -ne 0 ] && [ "$(j .status "$f")" = ok ]; then
		fail "vm_scenario_$name" "exit $rc with status ok: $(tail -3 "$tmp/s-$name.out" | tr '\n' ' ')"
	else # what holds on any kernel (tests/scenario_checks.sh)
		[ -n "$f" ] || echo "  ($(tail -3 "$tmp/s-$name.out" | tr '\n' ' '))"
		scenario_check "vm_scenario_$name" "$f" 2 full
	fi
	echo "  ($name: $((SECONDS - t0)) s)"
done
[ -z "$(qemu_left)" ] || fail vm_no_qemu_left "$(qemu_left)"
exit "$failed"
