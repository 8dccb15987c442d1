/* fuzz: what the libFuzzer targets (tests/fuzz/fuzz_*.c) share.  Each
 * target feeds one parser of outside input (docs/fuzzing.md); a crash, a
 * sanitizer report, a leak or a FUZZ_CHECK that fails is a finding. */
#ifndef FL_FUZZ_H
#define FL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the parser that must hold: abort (a finding) otherwise. */
#define FUZZ_CHECK(cond)                                                                               \
	do {                                                                                           \
		if (!(cond)) {                                                                         \
			fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                       \
		}                                                                                      \
	} while (0)

/* The input as a NUL-terminated string (malloc'd); NULL when it holds a NUL. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s;

	if (memchr(data, 0, size))
		return NULL;
	s = malloc(size + 1);
	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
