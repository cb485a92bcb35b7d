#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install every Debian 12 package tandem needs to build, test and run its
# lab. Idempotent: packages already installed are left as they are.
set -eu

PACKAGES="
  build-essential autoconf automake libtool pkg-config
  libltdl-dev libuv1-dev libinih-dev
  libosip2-dev libsrtp2-dev libspandsp-dev libc-ares-dev
  libfreediameter-dev freediameter-extensions
  libpri-dev dahdi-source
  libsqlite3-dev sqlite3 libssl-dev openssl libxml2-dev
  valgrind clang libclang-rt-14-dev linux-perf
  sip-tester iproute2 util-linux procps psmisc python3 dnsmasq-base tshark xxd
  kamailio kamailio-ims-modules kamailio-presence-modules
"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
else
	echo "deps: every package is installed"
fi

# dahdi-source ships its headers in a tarball; the DAHDI driver needs
# dahdi/user.h from it (configure looks in /usr/src/modules/dahdi/include).
if [ ! -f /usr/src/modules/dahdi/include/dahdi/user.h ]; then
	as_root tar -C /usr/src -xjf /usr/src/dahdi.tar.bz2 \
		modules/dahdi/include
fi
