/* fuzz_config_set: `--set KEY=VALUE` (and --duration, --iterations ...,
 * which the runner turns into assignments): each line of the input is one
 * assignment, applied in order to the defaults, then config_check. */
#include "tests/fuzz/fuzz.h"
#include "lib/config.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), err[2048], *save = NULL, *line;
	struct config c;
	int n = 0;

	if (!text)
		return 0;
	config_defaults(&c);
	for (line = strtok_r(text, "\n", &save); line && n < 16; line = strtok_r(NULL, "\n", &save), n++) {
		err[0] = '\0';
		if (config_set(&c, line, err, sizeof(err)) < 0)
			FUZZ_CHECK(err[0] != '\0');
	}
	if (config_check(&c, "fuzz", err, sizeof(err)) == 0) {
		json_t *resolved = config_to_json(&c);
		struct config again;

		FUZZ_CHECK(resolved != NULL);
		config_defaults(&again);
		FUZZ_CHECK(config_load_json(&again, resolved, "resolved", NULL, err, sizeof(err)) == 0);
		config_free(&again);
		json_decref(resolved);
	}
	config_free(&c);
	free(text);
	return 0;
}
