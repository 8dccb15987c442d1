/* arena: memory shared between the runner and its workloads (arena.h). */
#define _GNU_SOURCE
#include "lib/arena.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t arena_slot_size(uint32_t nhist)
{
	size_t s = sizeof(struct arena_slot) + (size_t)nhist * sizeof(struct hist);

	return (s + 63) & ~(size_t)63; /* cache-line aligned: no false sharing between threads */
}

static size_t arena_header_size(uint32_t nslots)
{
	return (sizeof(struct arena_header) + (size_t)nslots * sizeof(uint64_t) + 63) & ~(size_t)63;
}

/* Slot offsets are stored after the header so a workload can find them. */
static uint64_t *arena_offsets(struct arena_header *h)
{
	return (uint64_t *)(h + 1);
}

static int arena_index(struct arena *a, char *err, size_t errlen)
{
	uint64_t *off = arena_offsets(a->hdr);

	a->slot_offset = calloc(a->nslots ? a->nslots : 1, sizeof(size_t));
	if (!a->slot_offset) {
		snprintf(err, errlen, "arena: allocating %u slot offsets: %s", a->nslots, strerror(errno));
		return -1;
	}
	for (uint32_t i = 0; i < a->nslots; i++) {
		if (off[i] + sizeof(struct arena_slot) > a->size) {
			snprintf(err, errlen, "arena: slot %u offset %llu outside the arena (%zu bytes)", i,
				 (unsigned long long)off[i], a->size);
			return -1;
		}
		a->slot_offset[i] = (size_t)off[i];
	}
	return 0;
}

int arena_create(struct arena *a, uint32_t nslots, const uint32_t *role_of, const uint32_t *index_of,
		 const uint32_t *nhist_of, char *err, size_t errlen)
{
	size_t size = arena_header_size(nslots);
	long page = sysconf(_SC_PAGESIZE);

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	for (uint32_t i = 0; i < nslots; i++)
		size += arena_slot_size(nhist_of[i]);
	size = (size + (size_t)page - 1) & ~((size_t)page - 1);
	a->fd = memfd_create("faultline-arena", 0); /* inherited by the workloads */
	if (a->fd < 0) {
		snprintf(err, errlen, "arena: memfd_create: %s", strerror(errno));
		goto fail;
	}
	if (ftruncate(a->fd, (off_t)size) < 0) {
		snprintf(err, errlen, "arena: ftruncate to %zu bytes: %s", size, strerror(errno));
		goto fail;
	}
	a->hdr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, a->fd, 0);
	if (a->hdr == MAP_FAILED) {
		a->hdr = NULL;
		snprintf(err, errlen, "arena: mmap of %zu bytes: %s", size, strerror(errno));
		goto fail;
	}
	/* Touch every page here so it is charged to the runner's cgroup. */
	for (size_t off = 0; off < size; off += (size_t)page)
		((volatile char *)a->hdr)[off] = 0;
	a->size = size;
	a->nslots = nslots;
	a->hdr->magic = ARENA_MAGIC;
	a->hdr->version = ARENA_VERSION;
	a->hdr->nslots = nslots;
	a->hdr->size_bytes = size;
	a->hdr->phase = ARENA_SETUP;
	{
		uint64_t *off = arena_offsets(a->hdr);
		size_t pos = arena_header_size(nslots);

		for (uint32_t i = 0; i < nslots; i++) {
			struct arena_slot *s = (struct arena_slot *)((char *)a->hdr + pos);

			off[i] = pos;
			s->role = role_of[i];
			s->index = index_of[i];
			s->nhist = nhist_of[i];
			for (uint32_t h = 0; h < nhist_of[i]; h++)
				hist_init(&s->hist[h]);
			pos += arena_slot_size(nhist_of[i]);
		}
	}
	if (arena_index(a, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	arena_close(a);
	return -1;
}

int arena_attach(struct arena *a, int fd, char *err, size_t errlen)
{
	struct stat st;

	memset(a, 0, sizeof(*a));
	a->fd = fd;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "arena: fstat of fd %d: %s", fd, strerror(errno));
		goto fail;
	}
	a->size = (size_t)st.st_size;
	a->hdr = mmap(NULL, a->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a->hdr == MAP_FAILED) {
		a->hdr = NULL;
		snprintf(err, errlen, "arena: mmap of fd %d (%zu bytes): %s", fd, a->size, strerror(errno));
		goto fail;
	}
	if (a->hdr->magic != ARENA_MAGIC || a->hdr->version != ARENA_VERSION || a->hdr->size_bytes != a->size) {
		snprintf(err, errlen, "arena: fd %d is not a faultline arena of version %u", fd, ARENA_VERSION);
		goto fail;
	}
	a->nslots = a->hdr->nslots;
	if (arena_index(a, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	a->fd = -1; /* not ours to close */
	arena_close(a);
	return -1;
}

void arena_close(struct arena *a)
{
	if (a->hdr)
		munmap(a->hdr, a->size);
	if (a->fd >= 0)
		close(a->fd);
	free(a->slot_offset);
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

void arena_set_phase(struct arena *a, int phase)
{
	__atomic_store_n(&a->hdr->phase, phase, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &a->hdr->phase, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void arena_wait_start(struct arena *a)
{
	while (__atomic_load_n(&a->hdr->phase, __ATOMIC_ACQUIRE) == ARENA_SETUP)
		syscall(SYS_futex, &a->hdr->phase, FUTEX_WAIT, ARENA_SETUP, NULL, NULL, 0);
}
