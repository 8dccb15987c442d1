/* check: `fl-history check`, E-divisive change points (edivisive.h) on
 * every series, each reported with the run and kernel where it starts, the
 * means of the segments before and after, the change in %, the p-value and
 * the direction by the metric's better-direction.  Watched metrics (the
 * scenario's config.report.headline of its latest run, or --watch) gate:
 * exit 1 when one regressed past its threshold (the last change point of
 * the series, or with --gate-since every change point from that date on),
 * 3 when no watched series has enough points, 2 on bad input. */
#ifndef FL_HISTORY_CHECK_H
#define FL_HISTORY_CHECK_H

#include <stddef.h>

#include "report/history/edivisive.h"
#include "report/history/trend.h"

/* Change points of a series of run means; their number, or -1. */
int check_detect(const struct trend *s, const struct edivisive_opts *o, struct edivisive_point *out, size_t max);

int check_main(int argc, char **argv);

#endif
