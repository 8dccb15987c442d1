/* synth: synthetic series.  `fl-history synth` fills a new database with
 * N series of P nightly runs (for tests/bench.sh: check time on 1,000 x
 * 365); `fl-history selftest-detect` measures E-divisive on planted steps
 * (5%, 10%, 50%) and flat series under Gaussian noise (CV 5%, 15%, 25%):
 * detection rate within 3 points of the planted step and false-alarm rate,
 * as the table in docs/nightly.md. */
#ifndef FL_HISTORY_SYNTH_H
#define FL_HISTORY_SYNTH_H

int synth_main(int argc, char **argv);
int synth_selftest_main(int argc, char **argv);

#endif
