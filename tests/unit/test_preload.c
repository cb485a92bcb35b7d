/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test binary holding the skel plugin statically (libtool -dlpreopen):
 * libltdl finds it among the preloaded symbols by its <name>_LTX_ prefix,
 * with no module file on any search path.
 */
#include "config.h"

#include <ltdl.h>
#include <stdlib.h>
#include <unistd.h>

#include "../core/core.h"
#include "capture.h"
#include "tap.h"

int main(void)
{
	char path[] = "/tmp/tandem-test-preload-XXXXXX";
	int fd = mkstemp(path);
	struct node node = { 0 };
	const char *log;
	int rc;

	LTDL_SET_PRELOADED_SYMBOLS();
	tap_plan(2);
	if (fd < 0 || write(fd, "[plugins]\nload = skel\n[skel]\ngreeting = x\n",
			    41) != 41)
		return 1;
	close(fd);
	capture_begin();
	rc = node_configure(&node, path, "/nonexistent");
	ok(rc == 0, "a preloaded plugin loads with no module on the path");
	if (rc == 0)
		rc = node_check(&node);
	ok(rc == 0 && node.loader.nplugins == 1,
	   "and runs its init and fini");
	node_free(&node);
	log = capture_end();
	if (rc)
		printf("# %s", log);
	unlink(path);
	return tap_done();
}
