/* config_internal: what lib/config.c shares with lib/config_antagonists.c
 * (the antagonists section: named instances of a second options table,
 * parsed, checked, printed and resolved by the same code).  Private to lib/. */
#ifndef FL_CONFIG_INTERNAL_H
#define FL_CONFIG_INTERNAL_H

#include "lib/config.h"

/* Where a value comes from, for error messages: the file (or "--set"), its
 * text (for line numbers; may be NULL) and the caller's error buffer. */
struct config_ctx {
	const char *file;
	const char *text;
	char *err;
	size_t errlen;
};

/* "FILE:LINE: PATH: message (value V)" into x->err; returns -1. */
int config_fail(const struct config_ctx *x, const char *path, const json_t *val, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Check v against option o and store it at base + o->offset (base: the
 * struct config, or one struct config_antagonist).  0, or -1 with x->err. */
int config_assign(void *base, const struct config_option *o, const json_t *v, const struct config_ctx *x);
/* The value of option o stored at field, as JSON. */
json_t *config_value_json(const struct config_option *o, const void *field);
/* One --help entry: path, type, default, range or choices, help. */
void config_help_option(FILE *out, const struct config_option *o, const char *path);

/* lib/config_antagonists.c: the "antagonists" object of a scenario (load),
 * the option an "antagonists.NAME.KEY" path names, with the instance it is
 * stored in (created with the defaults when new; opt->path is set to path),
 * the cross-field checks, the resolved section, --help, and free. */
int config_antagonists_load(struct config *c, const json_t *obj, const struct config_ctx *x);
int config_antagonists_option(struct config *c, const char *path, struct config_option *opt, void **base,
			      const struct config_ctx *x);
int config_antagonists_check(const struct config *c, const struct config_ctx *x);
void config_antagonists_json(const struct config *c, json_t *root);
void config_antagonists_help(FILE *out);
void config_antagonists_free(struct config *c);

#endif
