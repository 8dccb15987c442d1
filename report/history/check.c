/* check: change points and the regression gate (check.h). */
#include "report/history/check.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "report/history/history.h"
#include "report/history/store.h"

#define CHECK_MAX_WATCH 64
#define CHECK_MAX_POINTS 64

struct check_watch {
	char scenario[128], metric[96];
	double pct; /* NAN: the default threshold */
};

struct check_opts {
	struct edivisive_opts ed;
	double threshold;
	const char *gate_since, *junit;
	bool all_metrics;
	struct check_watch watch[CHECK_MAX_WATCH];
	size_t nwatch;
};

/* One series' outcome, for the text and the JUnit file. */
struct check_result {
	bool watched, too_few, failed;
	double pct;
	char detail[1024];
};

int check_detect(const struct trend *s, const struct edivisive_opts *o, struct edivisive_point *out, size_t max)
{
	double *x = malloc((s->n ? s->n : 1) * sizeof(*x));
	int n;

	if (!x)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		x[i] = s->p[i].mean;
	n = edivisive_detect(x, s->n, o, out, max);
	free(x);
	return n;
}

/* Is the series watched, and at what threshold? */
static bool check_watched(const struct check_opts *o, const struct trend *s, double *pct)
{
	bool scen_listed = false;

	*pct = o->threshold;
	for (size_t i = 0; i < o->nwatch; i++) {
		if (strcmp(o->watch[i].scenario, s->scenario))
			continue;
		scen_listed = true;
		if (!strcmp(o->watch[i].metric, s->metric)) {
			if (!isnan(o->watch[i].pct))
				*pct = o->watch[i].pct;
			return true;
		}
	}
	if (o->all_metrics)
		return strcmp(s->better, "none") != 0;
	if (scen_listed)
		return false;
	for (const char *h = s->headline; *h;) {
		size_t len = strcspn(h, ",");

		if (len == strlen(s->metric) && !strncmp(h, s->metric, len))
			return true;
		h += len + (h[len] == ',');
	}
	return false;
}

static const char *check_direction(const struct trend *s, double before, double after)
{
	if (!strcmp(s->better, "lower"))
		return after > before ? "regression" : "improvement";
	if (!strcmp(s->better, "higher"))
		return after < before ? "regression" : "improvement";
	return "change";
}

/* Report the change points of one series; fill r. */
static void check_report(const struct check_opts *o, const struct trend *s, const struct edivisive_point *cp,
			 int ncp, struct check_result *r)
{
	char name[512];

	printf("%s: %zu runs, %d change point%s%s\n", trend_name(s, name, sizeof(name)), s->n, ncp,
	       ncp == 1 ? "" : "s", r->watched ? " [watched]" : "");
	for (int i = 0; i < ncp; i++) {
		size_t from = i ? cp[i - 1].index : 0, at = cp[i].index;
		size_t to = i + 1 < ncp ? cp[i + 1].index : s->n;
		double before = trend_mean(s, from, at), after = trend_mean(s, at, to);
		double pct = before != 0 ? 100.0 * (after - before) / fabs(before) : NAN;
		const char *dir = check_direction(s, before, after);
		const struct trend_point *p = &s->p[at];
		bool gates = o->gate_since ? strcmp(p->started_at, o->gate_since) >= 0 : i == ncp - 1;
		bool bad = r->watched && gates && !strcmp(dir, "regression") && fabs(pct) >= r->pct;

		printf("  change at run %s (%s, kernel %s, label %s): %.6g -> %.6g %s (%+.2f%%), p %.3f: %s%s\n",
		       p->run_id, p->started_at, p->kernel, p->label, before, after, s->unit, pct, cp[i].p_value, dir,
		       bad ? " PAST THRESHOLD" : "");
		if (bad && !r->failed) {
			r->failed = true;
			snprintf(r->detail, sizeof(r->detail),
				 "%s regressed %+.2f%% (threshold %g%%) from run %s, kernel %s, label %s, %s: %.6g -> "
				 "%.6g %s, p %.3f",
				 s->metric, pct, r->pct, p->run_id, p->kernel, p->label, p->started_at, before, after,
				 s->unit, cp[i].p_value);
		}
	}
}

static void check_xml(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

/* junit.xml: one test case per watched series. */
static int check_junit(const char *path, const struct trend_set *set, const struct check_result *res)
{
	FILE *f = fopen(path, "w");
	size_t n = 0, fails = 0, skips = 0;

	if (!f) {
		util_err("check: --junit %s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < set->n; i++)
		if (res[i].watched) {
			n++;
			fails += res[i].failed;
			skips += res[i].too_few;
		}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
		   "<testsuite name=\"fl-history check\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n",
		n, fails, skips);
	for (size_t i = 0; i < set->n; i++) {
		const struct trend *s = &set->s[i];
		char cls[512];

		if (!res[i].watched)
			continue;
		snprintf(cls, sizeof(cls), "%s.%s.%s.%s.%.8s", s->scenario, s->arch, s->host, s->backend,
			 s->config_hash);
		fputs("  <testcase classname=\"", f);
		check_xml(f, cls);
		fputs("\" name=\"", f);
		check_xml(f, s->metric);
		fputs("\">", f);
		if (res[i].failed || res[i].too_few) {
			fputs(res[i].failed ? "<failure message=\"" : "<skipped message=\"", f);
			check_xml(f, res[i].detail);
			fputs("\"/>", f);
		}
		fputs("</testcase>\n", f);
	}
	fputs("</testsuite>\n</testsuites>\n", f);
	if (fclose(f) != 0) {
		util_err("check: --junit %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Every series: detect, report, gate.  The exit status. */
static int check_run(const struct check_opts *o, const struct trend_set *set)
{
	struct check_result *res = calloc(set->n ? set->n : 1, sizeof(*res));
	struct edivisive_point cp[CHECK_MAX_POINTS];
	size_t watched = 0, tested = 0, failed = 0, points = 0, few = 0;
	int rc = FL_EXIT_OK;

	if (!res) {
		util_err("check: out of memory (%s)", strerror(ENOMEM));
		return FL_EXIT_FAIL;
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct trend *s = &set->s[i];
		struct check_result *r = &res[i];
		int n;

		r->watched = check_watched(o, s, &r->pct);
		watched += r->watched;
		if (s->n < 2 * o->ed.min_size) {
			r->too_few = true;
			few++;
			snprintf(r->detail, sizeof(r->detail), "too few points: %zu runs, change points need %zu",
				 s->n, 2 * o->ed.min_size);
			continue;
		}
		if ((n = check_detect(s, &o->ed, cp, CHECK_MAX_POINTS)) < 0) {
			util_err("check: out of memory (%s)", strerror(ENOMEM));
			rc = FL_EXIT_FAIL;
			goto exit;
		}
		tested += r->watched;
		points += (size_t)n;
		if (n > 0 || r->watched)
			check_report(o, s, cp, n, r);
		failed += r->failed;
	}
	for (size_t i = 0; i < set->n; i++)
		if (res[i].watched && res[i].too_few) {
			char name[512];

			printf("%s: %s [watched]\n", trend_name(&set->s[i], name, sizeof(name)), res[i].detail);
		}
	printf("history check: %zu series (%zu watched, %zu of them tested), %zu change points, %zu series with "
	       "too few points; %zu watched regression%s past threshold\n",
	       set->n, watched, tested, points, few, failed, failed == 1 ? "" : "s");
	for (size_t i = 0; i < set->n; i++)
		if (res[i].failed)
			printf("REGRESSION %s %s %s %s: %s\n", set->s[i].scenario, set->s[i].arch, set->s[i].host,
			       set->s[i].backend, res[i].detail);
	if (o->junit && check_junit(o->junit, set, res) < 0)
		rc = FL_EXIT_FAIL;
	else if (failed)
		rc = FL_EXIT_FAIL;
	else if (!tested) {
		util_err("check: no watched series has enough points (%zu watched; change points need %zu runs "
			 "per series)", watched, 2 * o->ed.min_size);
		rc = FL_EXIT_NORESOURCE;
	}
exit:
	free(res);
	return rc;
}

/* --watch SCENARIO:METRIC[:PCT] */
static int check_parse_watch(struct check_opts *o, const char *arg)
{
	struct check_watch *w = &o->watch[o->nwatch];
	const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	char *end;

	if (o->nwatch == CHECK_MAX_WATCH || !c1 || c1 == arg || (size_t)(c1 - arg) >= sizeof(w->scenario)) {
		util_err("check: --watch: bad value '%s' (SCENARIO:METRIC[:PCT], at most %d)", arg, CHECK_MAX_WATCH);
		return -1;
	}
	snprintf(w->scenario, sizeof(w->scenario), "%.*s", (int)(c1 - arg), arg);
	snprintf(w->metric, sizeof(w->metric), "%.*s", (int)(c2 ? c2 - c1 - 1 : (long)strlen(c1 + 1)), c1 + 1);
	w->pct = NAN;
	if (c2) {
		errno = 0;
		w->pct = strtod(c2 + 1, &end);
		if (errno || end == c2 + 1 || (*end && strcmp(end, "%")) || !(w->pct >= 0)) {
			util_err("check: --watch %s: threshold '%s' is not a percentage >= 0", arg, c2 + 1);
			return -1;
		}
	}
	o->nwatch++;
	return 0;
}

static int check_number(const char *opt, const char *arg, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || (*end && strcmp(end, "%")) || !(*out >= min && *out <= max)) {
		util_err("check: --%s: bad value '%s' (a number in [%g, %g])", opt, arg, min, max);
		return -1;
	}
	return 0;
}

int check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },		{ "threshold", required_argument, NULL, 't' },
		{ "watch", required_argument, NULL, 'w' },	{ "all-metrics", no_argument, NULL, 'a' },
		{ "gate-since", required_argument, NULL, 'g' }, { "junit", required_argument, NULL, 'j' },
		{ "min-size", required_argument, NULL, 'm' },	{ "permutations", required_argument, NULL, 'p' },
		{ "sig-level", required_argument, NULL, 's' },	{ "scenario", required_argument, NULL, 'F' },
		{ "metric", required_argument, NULL, 'F' },	{ "arch", required_argument, NULL, 'F' },
		{ "host", required_argument, NULL, 'F' },	{ "label", required_argument, NULL, 'F' },
		{ "since", required_argument, NULL, 'F' },	{ NULL, 0, NULL, 0 }
	};
	struct check_opts o = { .threshold = 5.0 };
	struct history_filter f = { 0 };
	const char *db = STORE_DEFAULT_PATH;
	struct trend_set set;
	struct store s;
	char err[1024];
	int c, idx, rc;
	double v;

	edivisive_defaults(&o.ed);
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 't': if (check_number("threshold", optarg, 0, 1e6, &o.threshold)) return FL_EXIT_USAGE; break;
		case 'w': if (check_parse_watch(&o, optarg)) return FL_EXIT_USAGE; break;
		case 'a': o.all_metrics = true; break;
		case 'g': o.gate_since = optarg; break;
		case 'j': o.junit = optarg; break;
		case 'm': if (check_number("min-size", optarg, 2, 1000, &v)) return FL_EXIT_USAGE;
			o.ed.min_size = (size_t)v; break;
		case 'p': if (check_number("permutations", optarg, 19, 100000, &v)) return FL_EXIT_USAGE;
			o.ed.permutations = (unsigned)v; break;
		case 's': if (check_number("sig-level", optarg, 1e-6, 0.5, &o.ed.sig_level)) return FL_EXIT_USAGE;
			break;
		case 'F': history_filter_option(&f, opts[idx].name, optarg); break;
		default: return FL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		util_err("check: unexpected argument '%s'", argv[optind]);
		return FL_EXIT_USAGE;
	}
	if ((rc = store_open(&s, db, false, err, sizeof(err)))) {
		util_err("check: %s", err);
		return rc;
	}
	if ((rc = trend_load(&s, &f, &set, err, sizeof(err)))) {
		util_err("check: %s", err);
		store_close(&s);
		return rc;
	}
	store_close(&s);
	rc = check_run(&o, &set);
	trend_free(&set);
	return rc;
}
