/* plot: `fl-history plot`, one gnuplot figure (PNG and SVG) per series:
 * one point per run (mean of its iterations, bar from the smallest to the
 * largest iteration), the segment means between change points, each change
 * point a dashed line with its change and p-value, kernel releases on the x
 * axis.  The series are the watched ones (the scenario's headline metrics),
 * all of them with --all-metrics or --metric.  Each figure's gnuplot script
 * stays next to it (re-run with gnuplot NAME.gp). */
#ifndef FL_HISTORY_PLOT_H
#define FL_HISTORY_PLOT_H

int plot_main(int argc, char **argv);

#endif
