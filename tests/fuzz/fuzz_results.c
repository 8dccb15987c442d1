/* fuzz_results: a result file as fl-report and fl-history load it
 * (results_load: JSON without duplicate keys, results_validate), then
 * every metric of every iteration (metrics_eval), which must be finite. */
#include "tests/fuzz/fuzz.h"
#include "lib/metrics.h"
#include "lib/results.h"

#include <jansson.h>
#include <math.h>

static void fuzz_metric(void *ctx, const struct metric *m, double value)
{
	(void)ctx;
	FUZZ_CHECK(m->name[0] != '\0');
	FUZZ_CHECK(isfinite(value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr), *it;
	char err[2048];
	size_t i;

	if (!doc)
		return 0;
	err[0] = '\0';
	if (results_validate(doc, "fuzz.json", err, sizeof(err)) == 0) {
		json_array_foreach(json_object_get(doc, "iterations"), i, it) {
			err[0] = '\0';
			if (metrics_eval(it, fuzz_metric, NULL, err, sizeof(err)) < 0)
				FUZZ_CHECK(err[0] != '\0');
		}
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	json_decref(doc);
	return 0;
}
