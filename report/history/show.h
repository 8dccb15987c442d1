/* show: `fl-history show`, the series (one line per run: mean and
 * iteration spread), every stored value (--tsv, exact, the format of
 * `fl-history eval`), or the runs with their kernel and config (--runs). */
#ifndef FL_HISTORY_SHOW_H
#define FL_HISTORY_SHOW_H

int show_main(int argc, char **argv);

#endif
