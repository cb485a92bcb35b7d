/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replays files through a libFuzzer target without libFuzzer, so every
 * build's `make check` runs the seed corpus (and any crash found by
 * `make fuzz` once it is added to the corpus). TAP: one test per file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long file_size(FILE *f)
{
	long n;

	if (fseek(f, 0, SEEK_END) != 0)
		return -1;
	n = ftell(f);
	rewind(f);
	return n;
}

int main(int argc, char **argv)
{
	int failed = 0;

	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		long n = f ? file_size(f) : -1;
		uint8_t *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;

		if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
			printf("not ok %d - cannot read %s\n", i, argv[i]);
			failed = 1;
		} else {
			LLVMFuzzerTestOneInput(buf, (size_t)n);
			printf("ok %d - %s\n", i, argv[i]);
		}
		free(buf);
		if (f)
			fclose(f);
	}
	return failed;
}
