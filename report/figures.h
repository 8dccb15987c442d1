/* figures: what the figure units share (figures.c, figures_lock.c). */
#ifndef FL_REPORT_FIGURES_H
#define FL_REPORT_FIGURES_H

#include <stdio.h>

#include "report/report.h"

struct figures_member { /* one set's group in a figure */
	const struct report_set *set;
	const struct report_group *g;
};

/* The data file and script of one (scenario, arch), built in memory: index
 * blocks in dat, and the outputs the script makes. */
struct figures_script {
	FILE *dat, *gp;
	char *dat_buf, *gp_buf;
	size_t dat_len, gp_len;
	char *stem, *dat_name;
	int blocks;
	struct report_strs outputs;
};

/* A copy fit for a file name. */
char *figures_fname(const char *s);
/* A gnuplot single-quoted string: ' doubled, control characters dropped. */
void figures_gp_str(FILE *f, const char *s);
/* Start a data block (gnuplot "index" fg->blocks), comment line first. */
void figures_dat_block(struct figures_script *fg, const char *comment);
/* Emit a figure twice (PNG, SVG) with the same body. */
void figures_emit(struct figures_script *fg, const char *name, int w, int h, const char *body);
/* Rows and columns of a multiplot of n panels. */
void figures_layout(int n, int *rows, int *cols);

/* figures_lock.c: the mmap_lock decades and the per-VMA lock share. */
void figures_lock(struct figures_script *fg, const struct figures_member *mem, size_t nmem);

#endif
