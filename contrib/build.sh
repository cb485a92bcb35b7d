#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Configure and build tandem in a build directory (default _build).
# usage: contrib/build.sh [BUILDDIR [CONFIGURE-ARGS...]]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-_build}
[ $# -gt 0 ] && shift
cd "$top"
[ -x configure ] || ./autogen.sh
mkdir -p "$builddir"
cd "$builddir"
# Reconfigure when the arguments change (a stamp keeps the last ones).
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$*" ]; then
	"$top/configure" "$@"
	echo "$*" > .configure-args
fi
make -j"$(nproc)"
