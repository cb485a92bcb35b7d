/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tandemctl: send one command to a node's control socket and print the
 * answer. Exit 0 when the node says ok, 1 when it answers an error, 2 when
 * it cannot be reached or the call is wrong.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core.h"

#define DEFAULT_SOCKET TANDEM_RUNDIR "/tandemd.sock"
#define REPLY_TIMEOUT_MS 30000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandemctl [-s SOCKET | -c CONFIG] [--json] COMMAND "
		"[ARG...]\n"
		"\n"
		"  -s, --socket PATH  the node's control socket (default %s,\n"
		"                     or $TANDEM_SOCKET)\n"
		"  -c, --config FILE  take the socket from [node] "
		"control_socket of FILE\n"
		"  -j, --json         answer as JSON\n"
		"\n"
		"'tandemctl help' lists the node's commands.\n",
		DEFAULT_SOCKET);
}

/* [node] control_socket of a config file, or NULL (reason printed). */
static const char *socket_from_config(const char *path)
{
	struct tnd_config *cfg = config_load(path);
	struct cfg_key *key;
	const char *sock = NULL;

	if (!cfg)
		return NULL;
	key = config_key(config_section(cfg, "node"), "control_socket");
	sock = strings_keep(key ? key->value : DEFAULT_SOCKET);
	config_free(cfg);
	return sock;
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "tandemctl: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "tandemctl: cannot reach the node at %s: %s\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_request(int fd, bool json, int argc, char **argv)
{
	const char *form = json ? "json" : "text";

	if (send_all(fd, form, strlen(form) + 1) < 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		if (!*argv[i])
			continue; /* an empty word would end the request */
		if (send_all(fd, argv[i], strlen(argv[i]) + 1) < 0)
			return -1;
	}
	return send_all(fd, "", 1);
}

/* Print the body; returns 0 for "ok", 1 for "error", 2 otherwise. */
static int print_reply(int fd)
{
	char buf[65536];
	size_t len = 0;
	bool header_done = false;
	int status = 2;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "tandemctl: no answer in %d ms\n",
				REPLY_TIMEOUT_MS);
			return 2;
		}
		n = read(fd, buf + len, sizeof(buf) - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (!header_done) {
			char *nl = strchr(buf, '\n');

			if (!nl && len < sizeof(buf) - 1)
				continue;
			if (!nl)
				break;
			*nl = '\0';
			status = strcmp(buf, "ok") == 0      ? 0
				 : strcmp(buf, "error") == 0 ? 1
							     : 2;
			header_done = true;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		fwrite(buf, 1, len, status == 1 ? stderr : stdout);
		len = 0;
	}
	if (!header_done) {
		fprintf(stderr, "tandemctl: the node closed without an "
			"answer\n");
		return 2;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = getenv("TANDEM_SOCKET");
	bool json = false;
	int c, fd, status;

	if (!sock || !*sock)
		sock = DEFAULT_SOCKET;
	/* '+': the command's own words may start with '-'. */
	while ((c = getopt_long(argc, argv, "+s:c:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'c':
			sock = socket_from_config(optarg);
			if (!sock)
				return 2;
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tandemctl %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	fd = connect_to(sock);
	if (fd < 0)
		return 2;
	if (send_request(fd, json, argc - optind, argv + optind) < 0) {
		fprintf(stderr, "tandemctl: cannot send to %s: %s\n", sock,
			strerror(errno));
		close(fd);
		return 2;
	}
	status = print_reply(fd);
	close(fd);
	strings_free();
	return status;
}
