#!/usr/bin/env bash
# faultline under LAVA on this machine (docs/lava.md).  ./run.sh lava calls
# it after installing LAVA_PACKAGES and preparing the kernel (vm_prepare).
#
#   bench/lava/lava.sh job --kernel IMG --base-initrd FILE --bin DIR
#       --appliance-kernel PKG --faultline HOST_BIN --cache DIR --out DIR
#       [--arch x86_64] [--kernel-name N] [--accel auto|kvm|tcg]
#       [--scenario S] [--duration S] [--iterations N] [--set "K=V ..."]
#       [--baseline PATH] [--fail-on "M:P% ..."]
#     runs one real LAVA job with lava-run: the suite's ramdisk
#     (mkramdisk.sh) and IMG on a QEMU device whose dictionary is
#     devices/qemu.jinja2 rendered with Debian's lava-server device-type
#     templates; the test is faultline.yaml, inline.  Writes into DIR:
#     device.yaml, job.yaml, job.log (lava-run's YAML log), lava/ (its
#     output directory, result.yaml), results.txt (LAVA's results, one line
#     each: DEFINITION CASE RESULT [MEASUREMENT UNITS]) and results/*.json
#     (the suite's results, taken out of the log).  Exit 0 when the job
#     completed (whatever the test cases say), 1 when it did not, 2 bad
#     arguments, 3 a missing resource.
#   bench/lava/lava.sh results JOB.log       LAVA's test-case results of a log
#   bench/lava/lava.sh extract JOB.log DIR   the suite's result JSON of a log into DIR
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")" && pwd)
# Debian's python3 (python3-yaml, python3-jinja2, python3-guestfs), not
# whatever python3 comes first in PATH
PY=/usr/bin/python3
log() { echo "lava: $*" >&2; }
die() { log "$2"; exit "$1"; }

# LAVA's results in a lava-run log: lines {"dt": ..., "lvl": "results",
# "msg": {...}}, one per test case (a server's log has them as `- {...}`).
# They are YAML flow mappings (JSON but for tags such as ! "1058").
results_of() {
	"$PY" - "$1" <<'PY'
import json, sys, yaml
def entry(line):
    line = line.strip().removeprefix("- ")
    try:
        return json.loads(line)
    except ValueError:
        return yaml.safe_load(line)
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for line in f:
        if '"lvl": "results"' not in line:
            continue
        try:
            m = entry(line).get("msg") or {}
        except (ValueError, yaml.YAMLError, AttributeError):
            continue
        out = [str(m.get("definition", "")), str(m.get("case", "")), str(m.get("result", ""))]
        if "measurement" in m:
            out += [str(m["measurement"]), str(m.get("units", ""))]
        print(" ".join(out))
PY
}

# the suite's result JSON between FAULTLINE-RESULT-BEGIN/END lines of the
# guest's output (gzip + base64, written by faultline-lava.sh)
extract_of() {
	"$PY" - "$1" "$2" <<'PY'
import base64, gzip, json, os, re, sys
src, dest = sys.argv[1], sys.argv[2]
os.makedirs(dest, exist_ok=True)
name, chunks, n = None, [], 0
with open(src, encoding="utf-8", errors="replace") as f:
    for line in f:
        if '"lvl": "target"' not in line:
            continue
        try:
            msg = str(json.loads(line.strip().removeprefix("- ")).get("msg", ""))
        except ValueError:
            continue
        msg = msg.strip()
        if msg.startswith("FAULTLINE-RESULT-BEGIN "):
            name, chunks = os.path.basename(msg.split(" ", 1)[1]), []
        elif msg == "FAULTLINE-RESULT-END" and name:
            data = gzip.decompress(base64.b64decode("".join(chunks)))
            json.loads(data)
            path = os.path.join(dest, name)
            if not os.path.exists(path):
                with open(path + ".tmp", "wb") as o:
                    o.write(data)
                os.rename(path + ".tmp", path)
            print(path)
            name, n = None, n + 1
        elif name and re.fullmatch(r"[A-Za-z0-9+/=]+", msg):
            chunks.append(msg)
if n == 0:
    sys.exit("lava extract: no FAULTLINE-RESULT block in " + src)
PY
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
results) [ $# -eq 1 ] || die 2 "usage: $0 results JOB.log"; results_of "$1"; exit 0 ;;
extract) [ $# -eq 2 ] || die 2 "usage: $0 extract JOB.log DIR"; extract_of "$1" "$2"; exit $? ;;
job) ;;
*) die 2 "usage: $0 job OPTIONS | results JOB.log | extract JOB.log DIR (docs/lava.md)" ;;
esac

arch=x86_64 kernel="" kname="" base="" bin="" akpkg="" flbin="" cache="" out="" accel=auto
scenario=smoke duration=3 iterations=1 sets="" baseline="" fail_on=""
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || die 2 "$1 needs a value"
	case "$1" in
	--arch) arch=$2 ;;
	--kernel) kernel=$2 ;;
	--kernel-name) kname=$2 ;;
	--base-initrd) base=$2 ;;
	--bin) bin=$2 ;;
	--appliance-kernel) akpkg=$2 ;;
	--faultline) flbin=$2 ;;
	--cache) cache=$2 ;;
	--out) out=$2 ;;
	--accel) accel=$2 ;;
	--scenario) scenario=$2 ;;
	--duration) duration=$2 ;;
	--iterations) iterations=$2 ;;
	--set) sets="$sets${sets:+ }$2" ;;
	--baseline) baseline=$2 ;;
	--fail-on) fail_on="$fail_on${fail_on:+ }$2" ;;
	*) die 2 "unknown option '$1'" ;;
	esac
	shift 2
done
for v in kernel base bin akpkg flbin cache out; do
	[ -n "${!v}" ] || die 2 "job: --${v} is required"
done
[ "$arch" = x86_64 ] || die 2 "job: --arch $arch: the local job runs x86_64 guests (jobs/qemu-$arch.yaml is a template for a lab)"
case "$accel" in auto | kvm | tcg) ;; *) die 2 "--accel $accel: auto, kvm or tcg" ;; esac
[ -f "$here/../scenarios/$scenario.json" ] || [ -f "$scenario" ] || die 2 "no scenario '$scenario'"
command -v lava-run >/dev/null || die 3 "lava-run missing (./run.sh lava installs lava-dispatcher)"
mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd) out=$(cd "$out" && pwd)
kname=${kname:-$(basename "$kernel")}

# 1. the ramdisk: the VM backend's, plus the LAVA segment
"$here/mkramdisk.sh" ramdisk "$arch" "$bin" "$base" "$out/ramdisk.cpio.gz"

# 2. Debian's lava-server device-type templates (same version as the
#    dispatcher), downloaded, not installed: lava-run needs only the rendered
#    dictionary, and lava-server would bring a database and a web server
ver=$(dpkg-query -W -f='${Version}' lava-dispatcher)
tdir=$cache/lava-server-$ver
if [ ! -f "$tdir/device-types/qemu.jinja2" ]; then
	t=$(mktemp -d "$cache/.lava-server.XXXXXX")
	log "downloading lava-server $ver for its device-type templates"
	(cd "$t" && apt-get download -q "lava-server=$ver" >/dev/null 2>"$t/err") || {
		cat "$t/err" >&2; rm -rf "$t"; die 3 "apt-get download lava-server=$ver failed"; }
	dpkg-deb -x "$t"/lava-server_*.deb "$t/root"
	mkdir -p "$tdir"
	rm -rf "$tdir/device-types"
	mv "$t/root/usr/share/lava-server/device-types" "$tdir/device-types"
	rm -rf "$t"
fi

# 3. a kernel for libguestfs's appliance, which builds the test overlay disk:
#    supermin looks in /boot and /lib/modules, and this machine boots its
#    kernel from outside (no /boot), so Debian's package is unpacked here
kdir=$cache/appliance-kernel/$akpkg
if [ ! -d "$kdir/lib/modules" ]; then
	t=$(mktemp -d "$cache/.appliance-kernel.XXXXXX")
	log "downloading $akpkg for the libguestfs appliance"
	(cd "$t" && apt-get download -q "$akpkg" >/dev/null 2>"$t/err") || {
		cat "$t/err" >&2; rm -rf "$t"; die 3 "apt-get download $akpkg failed"; }
	dpkg-deb -x "$t"/*.deb "$t/root"
	# supermin reads modules.dep
	depmod -b "$t/root" "$(ls "$t/root/lib/modules" | head -n 1)"
	mkdir -p "$(dirname "$kdir")"
	rm -rf "$kdir"
	mv "$t/root" "$kdir"
	rm -rf "$t"
fi
kver=$(ls "$kdir/lib/modules" | head -n 1)
export SUPERMIN_KERNEL=$kdir/boot/vmlinuz-$kver SUPERMIN_MODULES=$kdir/lib/modules/$kver SUPERMIN_KERNEL_VERSION=$kver
[ -f "$SUPERMIN_KERNEL" ] || die 3 "$SUPERMIN_KERNEL missing in $akpkg"

# 4. the accelerator, decided as the VM backend decides it (a probe boot)
if [ "$accel" = auto ]; then
	"$flbin" vm --arch "$arch" --kernel "$kernel" --initrd "$base" --accel-probe "$out/accel.json" "$here/../scenarios/smoke.json" >/dev/null 2>"$out/accel.err" ||
		{ cat "$out/accel.err" >&2; die 3 "the accelerator probe failed"; }
	accel=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["accel"])' "$out/accel.json")
fi
no_kvm=true
if [ "$accel" = kvm ]; then
	no_kvm=false
	unset LIBGUESTFS_BACKEND_SETTINGS
else
	export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
fi
log "accelerator: $accel (guest and libguestfs appliance)"

# 5. the victim's disk, found in the guest by its label
rm -f "$out/data.img"
truncate -s 2G "$out/data.img"
mkfs.ext4 -q -F -L faultline-data "$out/data.img"

# 6. the device dictionary and the job
"$PY" - "$here" "$tdir/device-types" "$out" "$no_kvm" "$kernel" "$kname" "$scenario" "$duration" \
	"$iterations" "$sets" "$baseline" "$fail_on" <<'PY'
import os, sys, yaml, jinja2
(here, tdir, out, no_kvm, kernel, kname, scenario, duration, iterations, sets, baseline,
 fail_on) = sys.argv[1:]
ctx = dict(arch="x86_64", no_kvm=(no_kvm == "true"), memory=1024, cpus=2,
           data_disk=os.path.join(out, "data.img"))
# the job's context, as a LAVA server passes it to the device dictionary
ctx["extra_options"] = ["-smp %d" % ctx["cpus"]] + (["-cpu max"] if ctx["no_kvm"] else []) + \
    ["-drive file=%s,if=virtio,format=raw,cache=none" % ctx["data_disk"]]
# the dictionary extends Debian's qemu.jinja2 (which extends base.jinja2)
env_dev = jinja2.Environment(loader=jinja2.FileSystemLoader([tdir]), trim_blocks=True, autoescape=False)
src = open(os.path.join(here, "devices", "qemu.jinja2")).read()
device = env_dev.from_string(src).render(**ctx)
yaml.safe_load(device)
open(os.path.join(out, "device.yaml"), "w").write(device)
env_job = jinja2.Environment(loader=jinja2.FileSystemLoader([os.path.join(here, "jobs")]),
                             trim_blocks=True, lstrip_blocks=True, autoescape=False)
testdef = open(os.path.join(here, "faultline.yaml")).read()
testdef = "\n".join(l for l in testdef.splitlines() if l.strip() and not l.lstrip().startswith("#"))
job = env_job.get_template("qemu-x86_64.yaml").render(
    kernel_url="file://" + os.path.realpath(kernel), ramdisk_url="file://" + os.path.join(out, "ramdisk.cpio.gz"),
    kernel_name=kname, testdef_inline=testdef, scenario=scenario, duration=duration,
    iterations=iterations, set=sets, baseline=baseline, fail_on=fail_on, **ctx)
yaml.safe_load(job)
open(os.path.join(out, "job.yaml"), "w").write(job)
PY

# 7. the job
log "lava-run: $scenario on $kname (log: $out/job.log)"
rm -rf "$out/lava"
t0=$(date +%s)
rc=0
timeout 900 lava-run --job-id "faultline-$$" --output-dir "$out/lava" --device "$out/device.yaml" "$out/job.yaml" \
	>"$out/job.log" 2>&1 || rc=$?
log "lava-run exited $rc after $(($(date +%s) - t0)) s"
results_of "$out/job.log" >"$out/results.txt"
cat "$out/results.txt"
extract_of "$out/job.log" "$out/results" >&2 || true
job=$("$PY" -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])) or {}; print(d.get("result", "?"))' \
	"$out/lava/result.yaml" 2>/dev/null || echo "?")
log "LAVA job result: $job"
[ "$rc" -eq 0 ] && [ "$job" = pass ] || exit 1
