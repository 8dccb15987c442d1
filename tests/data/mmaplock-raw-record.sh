#!/usr/bin/env bash
# Records tests/data/mmaplock-raw-*: the mmap_lock tracepoints of a short
# multi-threaded program, both as the ring-buffer pages trace_pipe_raw gives
# (mmaplock-raw-cpuN.bin, one file per CPU, pages as read) and as the text
# the kernel prints for the very same events (mmaplock-raw-trace.txt: the
# instance's non-consuming `trace` file, read after tracing is turned off
# and before the pages are read), with the format files the decoder needs
# (mmaplock-raw-header_page.txt, -header_event.txt, -format-EVENT.txt).
# tests/test_mmaplock_raw.c replays them without root.  Run as root on the
# kernel to record from: tests/data/mmaplock-raw-record.sh [OUTDIR]
set -euo pipefail
out=${1:-$(dirname "$0")}
tmp=$(mktemp -d /tmp/flmmraw.XXXXXX)
inst=
cleanup() {
	[ -n "$inst" ] && { echo 0 >"$inst/tracing_on"; rmdir "$inst"; } 2>/dev/null
	mountpoint -q "$tmp/tfs" && umount "$tmp/tfs"
	rm -rf "$tmp"
}
trap cleanup EXIT
# the traced program: 2 tasks faulting and MADV_DONTNEEDing an anonymous
# mapping, 2 writers (mmap 1 MiB, touch, mprotect a page, munmap) and one
# reader of /proc/self/smaps_rollup (its own mmap_lock, read), for 8 ms,
# while the main task keeps moving the writers and the reader between the
# first two CPUs, so tasks wait on one CPU and acquire on another
# (the decoder must merge the CPUs' pages by time to pair them)
cat >"$tmp/gen.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
static char *anon;
static volatile int stop;
static volatile pid_t tids[3];
static void *fault(void *a) {
	unsigned s = (unsigned)(long)a;
	while (!stop) {
		size_t pg = rand_r(&s) % 8192;
		anon[pg * 4096] = 1;
		if (pg % 64 == 0) madvise(anon + pg * 4096, 64 * 4096, MADV_DONTNEED);
	}
	return 0;
}
static void *writer(void *a) {
	tids[(long)a] = (pid_t)syscall(SYS_gettid);
	while (!stop) {
		char *m = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		m[0] = 1; m[4096] = 1;
		mprotect(m, 4096, PROT_READ);
		munmap(m, 1 << 20);
	}
	return 0;
}
static void *observer(void *a) {
	char buf[4096];
	tids[(long)a] = (pid_t)syscall(SYS_gettid);
	while (!stop) {
		int fd = open("/proc/self/smaps_rollup", O_RDONLY);
		while (read(fd, buf, sizeof(buf)) > 0) ;
		close(fd);
		usleep(500);
	}
	return 0;
}
int main(void) {
	pthread_t t[5];
	anon = mmap(0, 8192ul * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_create(&t[0], 0, fault, (void *)1l);
	pthread_create(&t[1], 0, fault, (void *)2l);
	pthread_create(&t[2], 0, writer, (void *)0l);
	pthread_create(&t[3], 0, writer, (void *)1l);
	pthread_create(&t[4], 0, observer, (void *)2l);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0;; i++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000000000l + now.tv_nsec - t0.tv_nsec > 8000000) break;
		for (int k = 0; k < 3; k++) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET((i + k) % 2, &set);
			if (tids[k]) sched_setaffinity(tids[k], sizeof(set), &set);
		}
		usleep(20);
	}
	stop = 1;
	for (int i = 0; i < 5; i++) pthread_join(t[i], 0);
	return 0;
}
C
gcc -O2 -pthread "$tmp/gen.c" -o "$tmp/gen"
mkdir "$tmp/tfs"
mount -t tracefs nodev "$tmp/tfs"
inst=$tmp/tfs/instances/flmmraw-$$
mkdir "$inst"
echo 0 >"$inst/tracing_on"
echo 1024 >"$inst/buffer_size_kb"
echo mono >"$inst/trace_clock"
echo 1 >"$inst/options/event-fork"
mkfifo "$tmp/gate"
(read -r _ <"$tmp/gate"; exec "$tmp/gen") &
pid=$!
echo "$pid" >"$inst/set_event_pid"
echo 1 >"$inst/events/mmap_lock/enable"
echo 1 >"$inst/tracing_on"
echo go >"$tmp/gate"
wait "$pid"
echo 0 >"$inst/tracing_on"
kernel=$(uname -r)
{
	echo "# mmap_lock events recorded by tests/data/mmaplock-raw-record.sh on kernel $kernel"
	echo "# ($(nproc) CPUs): the instance's \`trace\` file (leading blanks removed), the same events as mmaplock-raw-cpu*.bin."
	echo "# Per-CPU stats at the end (overrun, dropped):$(for s in "$inst"/per_cpu/cpu*/stats; do
		printf ' %s/%s' "$(awk '/^overrun/ {print $2}' "$s")" "$(awk '/^dropped/ {print $3}' "$s")"; done)"
	sed 's/^ *//' "$inst/trace"
} >"$out/mmaplock-raw-trace.txt"
cp "$inst/events/header_page" "$out/mmaplock-raw-header_page.txt"
cp "$inst/events/header_event" "$out/mmaplock-raw-header_event.txt"
for e in start_locking acquire_returned released; do
	cp "$inst/events/mmap_lock/mmap_lock_$e/format" "$out/mmaplock-raw-format-$e.txt"
done
psize=$(awk -F'[;:]' '/field: char data/ {print $4 + $6}' "$inst/events/header_page")
for d in "$inst"/per_cpu/cpu*; do
	c=${d##*/cpu}
	dd if="$d/trace_pipe_raw" of="$out/mmaplock-raw-cpu$c.bin" bs="$psize" iflag=nonblock status=none 2>/dev/null || true
done
echo "recorded $(grep -c ': mmap_lock_' "$out/mmaplock-raw-trace.txt") events; pages: $(for f in "$out"/mmaplock-raw-cpu*.bin; do
	printf '%s=%s ' "${f##*/}" $(($(stat -c %s "$f") / psize)); done)"
