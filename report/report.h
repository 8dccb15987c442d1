/* report: what the files of fl-report share.  The program compares result
 * sets, a baseline and candidates, per (scenario, arch); docs/report.md
 * describes it.  Its units:
 *   report.c   options, orchestration, main(), small shared helpers
 *   load.c     result sets: files, directories and labels; grouping by
 *              (scenario, arch); display names
 *   compare.c  metrics per iteration, the comparison of two groups through
 *              stats.c, the gate (--fail-on)
 *   text.c     the plain-text table (72 columns), number formatting
 *   export.c   compare.json and junit.xml
 *   summary.c  the headline metrics by arch (compare-arch.txt, .csv, .json)
 *   figures.c  gnuplot data, scripts and the gnuplot run
 *   stats.c    descriptive statistics and two-sample tests (stats.h)
 *   sequential.c  group-sequential boundaries and decisions (sequential.h)
 *   decide.c   --sequential: the verdict of a sequential A/B so far
 * Allocation failures in these helpers end the program (FL_EXIT_FAIL). */
#ifndef FL_REPORT_H
#define FL_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "lib/metrics.h"
#include "report/stats.h"
#include "report/sequential.h"

/* Output formats of the table (--format). */
enum report_format { REPORT_FORMAT_TEXT, REPORT_FORMAT_MMTESTS, REPORT_FORMAT_LKP, REPORT_FORMAT_ARCH };

/* Exit status of a gate that cannot tell (docs/report.md); with
 * --sequential: some metric is still undecided. */
#define REPORT_EXIT_INCONCLUSIVE 4
/* --sequential: equivalence margin without --mde, and the design's last
 * look without --max-iterations. */
#define DECIDE_MARGIN_PCT 10.0
#define DECIDE_MAX_ITERATIONS 20

struct report_strs { /* a set of distinct strings, in insertion order */
	char **v;
	size_t n;
};

struct report_metric {
	char *name;
	struct metric def;   /* the catalogue's entry: kind, section, better, unit, order */
	bool lower_better;   /* def.better == METRIC_BETTER_LOWER */
	char *role, *sub;    /* role latencies: ROLE and HIST of ROLE.HIST.STAT; else "" */
	double *v;
	size_t n, cap;
};

struct report_group { /* one (scenario, arch) of one set */
	char *scenario, *arch;
	const json_t **iters; /* ok iterations, borrowed from the set's docs */
	size_t niters, cap, not_ok;
	struct report_strs kernels, isolations, files, run_ids, labels;
	struct report_strs headline; /* config.report.headline of its results */
	const json_t *config;        /* resolved config of its first result (borrowed) */
	char config_hash[17];        /* of the config less label, iterations, report */
	struct report_metric *metrics;
	size_t nmetrics;
};

struct report_set { /* one argument */
	const char *arg;
	char *name;
	json_t **docs;
	char **paths;
	size_t ndocs;
	struct report_group *groups;
	size_t ngroups;
};

struct report_side {
	const double *v;
	size_t n;
	double mean, sd, cv;
};

struct report_row {
	const struct report_metric *m; /* name, kind, direction */
	struct report_side a, b;
	double change;
	struct stats_test welch, mwu;
	const struct stats_test *decide;
	bool headline;    /* tested as declared; the rest through q */
	double q;         /* Benjamini-Hochberg q-value of the non-headline rows; NAN for headline */
	double mde_pct;   /* change detectable at 80% power, % of the baseline mean */
	size_t n_needed;  /* iterations per side to detect --mde P% (0: more than 1000, or not asked) */
	double ci_lo_pct, ci_hi_pct; /* (1 - alpha) interval of the change, % of the baseline mean */
	char mark; /* '*' significant, '~' not, '?' too few */
	const char *verdict;
	double threshold; /* gate; NAN: not gated */
	bool tripped, unjudged;
	const char *gate;  /* "ok", "regression", "inconclusive"; NULL: not gated */
	size_t gate_n;     /* inconclusive: iterations per side to detect a threshold-sized change */
};

struct report_cmp {
	struct report_set *base, *cand;
	struct report_group *gb, *gc;
	struct report_row *rows;
	size_t nrows;
	struct report_strs config_diff; /* "key: base -> cand" (only with --allow-config-diff) */
};

struct report_rule {
	const char *arg;
	char *metric;
	double pct;
	bool known;
};

struct report_ctx {
	double alpha;
	bool use_mwu, plots, quiet, all, allow_config_diff;
	enum report_format format;
	double mde_target;  /* --mde P: iterations needed for a P% change; 0 = not asked */
	bool sequential;    /* --sequential: decide (decide.c) instead of the report */
	size_t max_iterations; /* --max-iterations: the sequential design's last look */
	enum sequential_spending spending; /* --spending */
	char *command;      /* the command line, for the table's header */
	const char *out_dir, *results_dir, *gnuplot;
	char out_buf[4096];
	struct report_set *sets;
	size_t nsets;
	struct report_cmp *cmps;
	size_t ncmps;
	struct report_rule *rules;
	size_t nrules;
	size_t tripped, inconclusive;
	const char **notes; /* --note: lines for the arch summary */
	size_t nnotes;
};

/* report.c: shared helpers */
void *report_xrealloc(void *p, size_t n);
char *report_xstrdup(const char *s); /* NULL gives "" */
char *report_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_strs_add(struct report_strs *s, const char *str);
void report_strs_free(struct report_strs *s);
char *report_strs_join(const struct report_strs *s, const char *sep);
bool report_num(const json_t *v, double *out);
/* Write data to dir/name through a temporary file, fsync and rename. */
int report_write(const char *dir, const char *name, const char *data, size_t len);

/* load.c */
/* One argument into set: load its files, group their ok iterations by
 * (scenario, arch) with their metrics, name the set.  role ("BASE" or
 * "CAND") names the argument in errors.  0, or -1 after an error message. */
int load_set(struct report_set *set, const char *arg, const char *role, const char *results_dir,
	     bool allow_config_diff);
/* Make the display names of c's sets distinct. */
void load_name_sets(struct report_ctx *c);
/* The keys whose values differ between two resolved configs (label,
 * iterations and report left out), as "key: A -> B" into out. */
void load_config_diff(const json_t *a, const json_t *b, struct report_strs *out);
/* The group (scenario, arch) of set; NULL if absent and !create. */
struct report_group *load_group_get(struct report_set *set, const char *scenario, const char *arch, bool create);
void load_free(struct report_set *set);

/* compare.c */
/* The metrics of iteration idx of the result file path into g. */
int compare_iter_metrics(struct report_group *g, const json_t *it, const char *path, size_t idx);
void compare_sort_metrics(struct report_group *g);
const struct report_metric *compare_find_metric(const struct report_group *g, const char *name);
/* c->cmps: every candidate against the baseline in each (scenario, arch)
 * both have.  FL_EXIT_OK, or the exit status after an error message. */
int compare_all(struct report_ctx *c);
/* Parse --fail-on METRIC:PCT[%] into r.  0, or -1 after an error message. */
int compare_parse_rule(struct report_rule *r, const char *arg);
/* Apply the rules to c->cmps and count c->tripped; -1 (after listing the
 * known metrics) if a rule names a metric no comparison has. */
int compare_gate(struct report_ctx *c);
/* Mean over a group's iterations of probes.mmap_lock.KEY.SUB[.BUCKET]
 * (the probe's deltas and decade counts); NAN when no iteration has it.
 * The table's decade block and the lock figure both read it. */
double compare_lock_mean(const struct report_group *g, const char *key, const char *sub, const char *bucket);
/* Iterations per side the chosen test needs. */
int compare_test_need(const struct report_ctx *c);

/* decide.c */
/* --sequential: judge every headline metric, print the table (and with
 * --out write sequential.txt and .json).  FL_EXIT_OK when all are decided,
 * REPORT_EXIT_INCONCLUSIVE to go on, or another exit status after an
 * error message. */
int decide_run(struct report_ctx *c);

/* text.c */
/* The table in --format mmtests or lkp (compare-mmtests.txt, compare-lkp.txt). */
void text_mmtests(const struct report_ctx *c, FILE *f);
void text_lkp(const struct report_ctx *c, FILE *f);
/* The header lines every format shares: command, files and kernels. */
void text_header(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f, const char *prefix);
/* Word-wrap text at the table's width, continuation lines indented. */
void text_wrap(FILE *f, size_t indent, const char *text);
void text_fmt_num(char *buf, size_t len, double v);     /* <= 8 columns */
void text_fmt_change(char *buf, size_t len, double c);  /* "+1.23%" */
void text_fmt_cv(char *buf, size_t len, double cv);     /* "5%" */
/* The table of every comparison (compare.txt). */
void text_table(const struct report_ctx *c, FILE *f);

/* export.c */
json_t *export_json(const struct report_ctx *c); /* compare.json */
void export_junit(const struct report_ctx *c, FILE *f); /* junit.xml */

/* summary.c: per (scenario, candidate), the headline metrics (every
 * metric with --all) by arch, one column group (base, cand, change and
 * mark) per arch: text in blocks of 72 columns, CSV, JSON. */
void summary_text(const struct report_ctx *c, FILE *f);
void summary_csv(const struct report_ctx *c, FILE *f);
json_t *summary_json(const struct report_ctx *c);

/* figures.c */
/* Is prog runnable: a path, or a name found in PATH? */
bool figures_find_program(const char *prog);
/* Write the figures into c->out_dir and run c->gnuplot.  0, or -1. */
int figures_write(const struct report_ctx *c);

#endif
