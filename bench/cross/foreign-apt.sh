#!/usr/bin/env bash
# Debian binary packages of another architecture, without installing them and
# without adding a dpkg architecture (docs/cross.md, docs/vm.md):
#   bench/cross/foreign-apt.sh DARCH SUITE STATE_DIR search REGEX     names, one a line
#   bench/cross/foreign-apt.sh DARCH SUITE STATE_DIR download PKG...  .deb files into the cwd
# DARCH is a Debian architecture (riscv64, s390x, ...), SUITE bookworm or
# trixie.  Used where the machine's own apt cannot give them:
#   riscv64  Debian 12 has no riscv64 port; the guest's kernel and busybox come
#            from trixie, the first release with one;
#   s390x    this mirror's bookworm-security has no s390x (Debian 12's LTS
#            dropped it), so there is no 6.12 kernel for s390x in bookworm (it
#            comes from trixie), and the :s390x -dev packages cannot be
#            installed through multiarch (libpcre2-8-0:s390x is 10.42-1 while
#            amd64 has 10.42-1+deb12u2 from security; Multi-Arch: same needs
#            one version), so bench/cross/s390x-sysroot.sh unpacks them instead.
# As bench/cross/riscv64-sysroot.sh does for sources, the apt configuration (a
# deb list for SUITE main, DARCH only, signed by Debian's archive keyring) and
# its index live in STATE_DIR: the machine's /etc/apt, /var/lib/apt and dpkg
# are not touched.  The index (about 10 MB) is fetched when missing or older
# than a day.  Exit status: 0 ok, 2 bad usage, 3 missing resource.
set -euo pipefail
log() { echo "foreign-apt: $*" >&2; }
[ $# -ge 5 ] || { echo "usage: $0 DARCH SUITE STATE_DIR search REGEX | download PKG..." >&2; exit 2; }
darch=$1 suite=$2 cmd=$4
case "$suite" in bookworm | trixie) ;; *) log "suite '$suite': bookworm or trixie"; exit 2 ;; esac
[[ "$darch" =~ ^[a-z0-9]+$ ]] || { log "bad architecture '$darch'"; exit 2; }
mkdir -p "$3"
st=$(cd "$3" && pwd)
shift 4
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
mkdir -p "$st/lists/partial" "$st/cache/archives/partial"
echo "deb [arch=$darch signed-by=$KEYRING] http://deb.debian.org/debian $suite main" >"$st/sources.list"
: >"$st/status"
APT=(-o "Dir::Etc::SourceList=$st/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$st/lists" -o "Dir::State::status=$st/status" -o "Dir::Cache=$st/cache"
	-o "APT::Architecture=$darch" -o "APT::Architectures::=$darch" -o Acquire::Languages=none
	-o Debug::NoLocking=1 -o APT::Sandbox::User=root)
(
	flock 9    # one updater at a time
	if [ -z "$(find "$st/lists" -maxdepth 1 -name "*_${suite}_main_binary-${darch}_Packages*" -mmin -1440 2>/dev/null)" ]; then
		log "apt-get update of a private $suite $darch index (about 10 MB)"
		apt-get -q "${APT[@]}" update >"$st/update.log" 2>&1 || {
			tail -n 10 "$st/update.log" >&2; log "apt-get update ($suite, $darch) failed"; exit 3; }
	fi
) 9>"$st/.lock"
case "$cmd" in
search) apt-cache "${APT[@]}" search --names-only "$1" | awk '{print $1}' ;;
download)
	apt-get -q "${APT[@]}" download "$@" >/dev/null 2>"$st/download.err" || {
		cat "$st/download.err" >&2; log "apt-get download $* ($suite, $darch) failed"; exit 3; } ;;
*) log "unknown command '$cmd' (search, download)"; exit 2 ;;
esac
