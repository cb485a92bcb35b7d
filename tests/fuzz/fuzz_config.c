/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target for the config parser: any bytes, as a file, must parse or
 * be refused with errors, never crash or leak. Built with libFuzzer by
 * `make fuzz` (clang); `make check` replays the seed corpus through the
 * same function with fuzz_replay.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/core.h"

static const struct tnd_param fuzz_params[] = {
	TND_PARAM("s", TND_STR, struct node_cfg, name, "x", "string"),
	TND_PARAM("e", TND_ENUM, struct node_cfg, log_level, "a", "enum",
		  .choices = "a|b"),
	TND_PARAM("u", TND_UINT, struct node_cfg, stop_timeout_ms, "1", "uint",
		  .min = 1, .max = 100),
	TND_PARAM_END
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct tnd_config *cfg;
	struct node_cfg out;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	log_set_level("all", TND_LOG_ERROR);
	cfg = config_load_string("fuzz.conf", text);
	for (size_t i = 0; cfg && i < cfg->nsections; i++) {
		memset(&out, 0, sizeof(out));
		config_apply_params(cfg, &cfg->sections[i], "fuzz", fuzz_params,
				    &out);
	}
	config_free(cfg);
	strings_free();
	free(text);
	return 0;
}
