/* fuzz_config_json: a scenario file as `faultline run` loads it
 * (config_load_json over the defaults, then config_check and the resolved
 * scenario the workloads get, config_to_json, read back). */
#include "tests/fuzz/fuzz.h"
#include "lib/config.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), err[2048];
	json_error_t jerr;
	json_t *root = text ? json_loads(text, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	struct config c;

	config_defaults(&c);
	err[0] = '\0';
	if (root && config_load_json(&c, root, "fuzz.json", text, err, sizeof(err)) == 0) {
		if (config_check(&c, "fuzz.json", err, sizeof(err)) == 0) {
			/* what the runner hands the workloads must load again */
			json_t *resolved = config_to_json(&c);
			struct config again;

			FUZZ_CHECK(resolved != NULL);
			config_defaults(&again);
			FUZZ_CHECK(config_load_json(&again, resolved, "resolved", NULL, err, sizeof(err)) == 0);
			config_free(&again);
			json_decref(resolved);
		}
	} else if (root) {
		FUZZ_CHECK(err[0] != '\0'); /* every refusal says why */
	}
	json_decref(root);
	config_free(&c);
	free(text);
	return 0;
}
