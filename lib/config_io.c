/* config_io: a config from and to the outside: a scenario file, and the
 * memfd through which the runner hands the resolved config to the workload
 * processes and to fl-slowfs (config.h). */
#define _GNU_SOURCE
#include "lib/config.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	char *text;
	int ret;

	text = util_read_file(path, NULL);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read scenario: %s", path, strerror(errno));
		return -1;
	}
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
		free(text);
		return -1;
	}
	ret = config_load_json(c, root, path, text, err, errlen);
	json_decref(root);
	free(text);
	return ret;
}
int config_to_memfd(const struct config *c, const char *name, bool cloexec, char *err, size_t errlen)
{
	json_t *j = config_to_json(c);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int fd = memfd_create(name, cloexec ? MFD_CLOEXEC : 0);

	if (fd < 0 || !text || util_write_all(fd, text, strlen(text)) < 0) {
		snprintf(err, errlen, "writing the resolved scenario to memfd %s: %s", name,
			 strerror(fd < 0 || text ? errno : ENOMEM));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(text);
	json_decref(j);
	return fd;
}

int config_load_fd(struct config *c, int fd, char *err, size_t errlen)
{
	size_t cap = 65536, len = 0;
	char *text = malloc(cap), name[64];
	json_error_t jerr;
	json_t *root = NULL;
	ssize_t n = 0;
	int ret = -1;

	while (text && (n = pread(fd, text + len, cap - len - 1, (off_t)len)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			char *bigger = realloc(text, cap * 2);

			if (!bigger)
				break;
			text = bigger;
			cap *= 2;
		}
	}
	if (!text || n < 0) {
		snprintf(err, errlen, "reading the resolved scenario from fd %d: %s", fd, strerror(text ? errno : ENOMEM));
		goto exit;
	}
	text[len] = '\0';
	root = json_loads(text, 0, &jerr);
	if (!root) {
		snprintf(err, errlen, "the resolved scenario on fd %d is not JSON: line %d: %s", fd, jerr.line, jerr.text);
		goto exit;
	}
	snprintf(name, sizeof(name), "resolved scenario (fd %d)", fd);
	ret = config_load_json(c, root, name, text, err, errlen);
exit:
	json_decref(root);
	free(text);
	return ret;
}
