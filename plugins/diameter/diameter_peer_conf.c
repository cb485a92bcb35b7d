/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diameter_peer_conf.c - the peers list of [diameter]: "ID@ADDRESS[:PORT]"
 * items, also read by diaclient.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "diameter_int.h"

static int peer_conf_parse_one(const char *item, struct dia_peer_conf *pc)
{
	const char *at = strchr(item, '@');
	const char *addr, *port = NULL;
	size_t addr_len;

	if (!at || at == item || (size_t)(at - item) >= sizeof(pc->id))
		return -EINVAL;
	memcpy(pc->id, item, (size_t)(at - item));
	pc->id[at - item] = '\0';
	addr = at + 1;
	if (*addr == '[') { /* [v6]:port */
		const char *end = strchr(addr, ']');

		if (!end)
			return -EINVAL;
		addr_len = (size_t)(end - addr - 1);
		addr++;
		port = end[1] == ':' ? end + 2 : NULL;
	} else {
		port = strchr(addr, ':');
		addr_len = port ? (size_t)(port - addr) : strlen(addr);
		port = port ? port + 1 : NULL;
	}
	if (addr_len == 0 || addr_len >= sizeof(pc->address))
		return -EINVAL;
	memcpy(pc->address, addr, addr_len);
	pc->address[addr_len] = '\0';
	pc->port = 3868;
	if (port) {
		char *end;
		unsigned long p = strtoul(port, &end, 10);

		if (*end || p == 0 || p > 65535)
			return -EINVAL;
		pc->port = (unsigned)p;
	}
	return 0;
}

int dia_fd_peer_conf_parse(const char *list, struct dia_peer_conf *out,
			   size_t max, size_t *count)
{
	char buf[4096], *save = NULL, *item;

	*count = 0;
	if (strlen(list) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, list);
	for (item = strtok_r(buf, " ,\t", &save); item;
	     item = strtok_r(NULL, " ,\t", &save)) {
		if (*count == max)
			return -E2BIG;
		if (peer_conf_parse_one(item, &out[*count]))
			return -EINVAL;
		(*count)++;
	}
	return 0;
}
