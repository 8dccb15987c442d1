/* calibration: the newest calibration record (./run.sh calibrate,
 * bench/calibrate/calibrate.sh, docs/calibrate.md) made on the machine of a
 * run, attached to its result as environment.calibration.  Private to
 * bench/runner/. */
#ifndef FL_CALIBRATION_H
#define FL_CALIBRATION_H

#include <jansson.h>

/* The newest record in OUT_DIR/calibration/calibration-*.json whose machine
 * is env's (hostname, kernel_release, arch) with storage's device and
 * fs_magic: its file, time, settings and summary figures, or null when
 * there is none.  Records that are not calibrations, or of another
 * machine, are passed over; an unsafe directory or an unreadable record
 * is named in a warning on stderr. */
json_t *calibration_find(const char *out_dir, const json_t *env, const json_t *storage);

#endif
