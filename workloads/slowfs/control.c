/* control: the .control file of fl-slowfs (slowfs.h, docs/slowfs.md
 * ".control").  One key table names every key once with its type, the
 * settings field it sets and its help; it drives the parsing of writes,
 * the text a read returns, the settings log line, the range checks and
 * --help. */
#define _GNU_SOURCE
#include "workloads/slowfs/slowfs.h"

#include "lib/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum control_type {
	CONTROL_NS,	  /* integer, 0 .. SLOWFS_MAX_NS */
	CONTROL_RATE,	  /* integer with K/M/G/T/P suffixes, 0 .. SLOWFS_MAX_BANDWIDTH */
	CONTROL_JITTER,	  /* a jitter name */
	CONTROL_INFLIGHT, /* integer, 1 .. the in-flight capacity fixed at mount */
	CONTROL_RESET,	  /* "1": an action, no field */
};

struct control_key {
	const char *name;
	enum control_type type;
	size_t offset; /* into struct slowfs_settings; CONTROL_NO_FIELD for actions */
	const char *help;
};

#define CONTROL_SET(field) offsetof(struct slowfs_settings, field)
#define CONTROL_NO_FIELD SIZE_MAX

static const struct control_key control_keys[] = {
	{ "latency_ns", CONTROL_NS, CONTROL_SET(latency_ns),
	  "0 .. 3.6e12: fixed latency per read request (the median with lognormal)" },
	{ "jitter", CONTROL_JITTER, CONTROL_SET(jitter), "none | uniform | exponential | lognormal" },
	{ "jitter_ns", CONTROL_NS, CONTROL_SET(jitter_ns),
	  "0 .. 3.6e12: uniform: extra latency in [0, N]; exponential: mean extra" },
	{ "p99_ns", CONTROL_NS, CONTROL_SET(p99_ns), "0 .. 3.6e12: lognormal: p99 of the total latency" },
	{ "bandwidth_bytes_per_s", CONTROL_RATE, CONTROL_SET(bandwidth_bytes_per_s),
	  "0 (unlimited) .. 2^50, K/M/G/T/P suffixes allowed" },
	{ "max_inflight", CONTROL_INFLIGHT, CONTROL_SET(max_inflight),
	  "1 .. max(--max-inflight, 256): requests in service at once" },
	{ "reset_counters", CONTROL_RESET, CONTROL_NO_FIELD, "1: zero the counters and the page bitmap" },
};

#define CONTROL_NKEYS FL_ARRAY_SIZE(control_keys)

static uint64_t *control_field(struct slowfs_settings *s, const struct control_key *k)
{
	return (uint64_t *)((char *)s + k->offset);
}

/* The settings as "key=value" separated by sep (and after the last one). */
static void control_render(const struct slowfs_settings *s, char sep, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < CONTROL_NKEYS && pos < len; i++) {
		const struct control_key *k = &control_keys[i];
		uint64_t v;
		int n;

		if (k->offset == CONTROL_NO_FIELD)
			continue;
		v = *control_field((struct slowfs_settings *)s, k);
		if (k->type == CONTROL_JITTER)
			n = snprintf(buf + pos, len - pos, "%s=%s%c", k->name, service_jitter_name(v), sep);
		else
			n = snprintf(buf + pos, len - pos, "%s=%" PRIu64 "%c", k->name, v, sep);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
}

char *control_text(struct slowfs *fs)
{
	struct slowfs_settings s;
	char text[512];

	pthread_mutex_lock(&fs->lock);
	s = fs->set;
	pthread_mutex_unlock(&fs->lock);
	control_render(&s, '\n', text, sizeof(text));
	return strdup(text);
}

void control_usage(FILE *out)
{
	fprintf(out, "\nKeys of .control (write \"key=value\" lines; read it for the settings in force):\n");
	for (size_t i = 0; i < CONTROL_NKEYS; i++)
		fprintf(out, "  %-29s %s\n", control_keys[i].name, control_keys[i].help);
}

static void control_log_settings(const char *what, const struct slowfs_settings *s)
{
	char text[512];
	size_t len;

	control_render(s, ' ', text, sizeof(text));
	len = strlen(text);
	if (len && text[len - 1] == ' ')
		text[len - 1] = '\0';
	fprintf(stderr, SLOWFS_NAME ": .control: %s: %s\n", what, text);
}

static char *control_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Parse and range-check value for key k into *v.  Returns 0, or -EINVAL
 * after logging why. */
static int control_value(struct slowfs *fs, const struct control_key *k, const char *value,
			 uint64_t *v)
{
	if (k->type == CONTROL_JITTER) {
		if (service_jitter_parse(value, v) < 0) {
			fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': expected none, "
				"uniform, exponential or lognormal\n", k->name, value);
			return -EINVAL;
		}
		return 0;
	}
	if (cli_parse_u64(value, k->type == CONTROL_RATE, v) < 0) {
		fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': not a non-negative integer\n",
			k->name, value);
		return -EINVAL;
	}
	switch (k->type) {
	case CONTROL_RESET:
		if (*v != 1) {
			fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': only 1 is accepted\n", k->name,
				value);
			return -EINVAL;
		}
		break;
	case CONTROL_INFLIGHT:
		if (*v < 1 || *v > fs->inflight_capacity) {
			fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': outside [1, %" PRIu64
				"] (worker threads are fixed at mount)\n", k->name, value,
				fs->inflight_capacity);
			return -EINVAL;
		}
		break;
	case CONTROL_RATE:
	case CONTROL_NS: {
		unsigned long long max = k->type == CONTROL_RATE ? SLOWFS_MAX_BANDWIDTH : SLOWFS_MAX_NS;

		if (*v > max) {
			fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': over %llu\n", k->name, value, max);
			return -EINVAL;
		}
		break;
	}
	case CONTROL_JITTER:
		break;
	}
	return 0;
}

/* Parse one write to .control into p (merged on success) and *reset.
 * Returns 0, or -EINVAL after logging the first bad line (p untouched). */
static int control_parse(struct slowfs *fs, const char *data, size_t len, struct slowfs_pending *p,
			 bool *reset)
{
	struct slowfs_pending got = *p;
	char text[SLOWFS_CONTROL_MAX + 1];
	char *line, *save = NULL;

	if (len > SLOWFS_CONTROL_MAX) {
		fprintf(stderr, SLOWFS_NAME ": .control: write of %zu bytes exceeds %u\n", len,
			SLOWFS_CONTROL_MAX);
		return -EINVAL;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	if (strlen(text) != len) {
		fprintf(stderr, SLOWFS_NAME ": .control: NUL byte in write\n");
		return -EINVAL;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *key = control_trim(line), *value, *eq;
		const struct control_key *k = NULL;
		uint64_t v;
		size_t i;

		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			fprintf(stderr, SLOWFS_NAME ": .control: line '%s' is not key=value\n", key);
			return -EINVAL;
		}
		*eq = '\0';
		key = control_trim(key);
		value = control_trim(eq + 1);
		for (i = 0; i < CONTROL_NKEYS && !k; i++)
			if (!strcmp(key, control_keys[i].name))
				k = &control_keys[i];
		if (!k) {
			fprintf(stderr, SLOWFS_NAME ": .control: unknown key '%s'\n", key);
			return -EINVAL;
		}
		if (control_value(fs, k, value, &v) < 0)
			return -EINVAL;
		if (k->offset == CONTROL_NO_FIELD) {
			*reset = true;
			continue;
		}
		*control_field(&got.set, k) = v;
		got.mask |= 1u << (k - control_keys);
	}
	*p = got;
	return 0;
}

/* Apply what h holds pending if the result is consistent.  Returns 1 when
 * applied (or nothing was pending), 0 when it is still held back (reason in
 * err), with *now the settings in force afterwards. */
static int control_try_apply(struct slowfs *fs, struct slowfs_handle *h, struct slowfs_settings *now,
			     char *err, size_t errlen)
{
	struct slowfs_settings cand;
	int applied = 1;

	pthread_mutex_lock(&fs->lock);
	if (h->pending.mask) {
		cand = fs->set;
		for (size_t i = 0; i < CONTROL_NKEYS; i++)
			if (h->pending.mask & (1u << i))
				*control_field(&cand, &control_keys[i]) =
					*control_field(&h->pending.set, &control_keys[i]);
		if (service_check(&cand, err, errlen) == 0) {
			service_commit(fs, &cand);
			h->pending.mask = 0;
		} else {
			applied = 0;
		}
	}
	*now = fs->set;
	pthread_mutex_unlock(&fs->lock);
	return applied;
}

/* One write(2) to .control: whole lines "key=value"; blank lines and lines
 * starting with '#' are ignored.  A malformed line, an unknown key or a bad
 * value fails the whole write with -EINVAL (nothing of it is kept).  Values
 * are applied as soon as the settings they make are consistent; a lognormal
 * jitter named before its p99_ns (shells write one line per write(2)) is held
 * back on this open file until a later write completes it, and dropped with
 * an error from close(2) (FLUSH) if none does. */
int control_write(struct slowfs *fs, struct slowfs_handle *h, const char *data, size_t len)
{
	struct slowfs_pending p;
	struct slowfs_settings now;
	char err[160];
	bool reset = false;
	int ret;

	atomic_fetch_add(&fs->control_writes, 1);
	pthread_mutex_lock(&fs->lock);
	p = h->pending;
	pthread_mutex_unlock(&fs->lock);
	ret = control_parse(fs, data, len, &p, &reset);
	if (ret) {
		atomic_fetch_add(&fs->control_errors, 1);
		return ret;
	}
	pthread_mutex_lock(&fs->lock);
	h->pending = p;
	pthread_mutex_unlock(&fs->lock);
	if (p.mask) {
		if (control_try_apply(fs, h, &now, err, sizeof(err)))
			control_log_settings("applied", &now);
		else
			fprintf(stderr, SLOWFS_NAME ": .control: held back until a later write "
				"completes it: %s\n", err);
	}
	if (reset) {
		account_reset(fs);
		fprintf(stderr, SLOWFS_NAME ": .control: counters reset\n");
	}
	return 0;
}

/* close(2) of .control: anything still held back is dropped, with EINVAL. */
int control_flush(struct slowfs *fs, struct slowfs_handle *h)
{
	struct slowfs_settings now;
	char err[160];

	if (control_try_apply(fs, h, &now, err, sizeof(err)))
		return 0;
	pthread_mutex_lock(&fs->lock);
	h->pending.mask = 0;
	pthread_mutex_unlock(&fs->lock);
	atomic_fetch_add(&fs->control_errors, 1);
	fprintf(stderr, SLOWFS_NAME ": .control: closed with settings that were never consistent, "
		"not applied: %s\n", err);
	return -EINVAL;
}
