/* odirect: the pure part of the odirect role (odirect.c), for unit tests. */
#ifndef FL_ODIRECT_H
#define FL_ODIRECT_H

#include <stdint.h>

/* Pure functions of their arguments; page is the page size in bytes.
 *
 * Where the next read lands in the buffer mapping (size_bytes long): the
 * cursor walks the mapping in steps of len rounded up to whole pages, so
 * every read gets pages no earlier read of this lap has faulted in; a read
 * that would run past the end starts the next lap at 0 (*laps counts them).
 * len must be at most size_bytes. */
static inline uint64_t odirect_next_buffer(uint64_t *cursor, uint64_t size_bytes, uint64_t len, uint64_t page,
					   uint64_t *laps)
{
	uint64_t step = (len + page - 1) / page * page, at;

	if (*cursor + len > size_bytes) {
		*cursor = 0;
		(*laps)++;
	}
	at = *cursor;
	*cursor += step;
	return at;
}

/* First buffer offset of thread index of n: spread over the mapping, page
 * aligned, so threads sharing a buffer file start apart. */
static inline uint64_t odirect_first_buffer(uint32_t index, uint32_t n, uint64_t size_bytes, uint64_t page)
{
	uint64_t pages = size_bytes / page;

	return n ? pages * index / n * page : 0;
}

/* Source offset for a read of len bytes from a file of size_bytes, from a
 * uniform draw r: page aligned, the read inside the file. */
static inline uint64_t odirect_source_offset(uint64_t r, uint64_t size_bytes, uint64_t len, uint64_t page)
{
	uint64_t slots = (size_bytes - len) / page + 1;

	return r % slots * page;
}

#endif
