#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# diameter-certs.sh DIR NAME...: make a lab CA (DIR/ca.pem) and, for each
# NAME (a Diameter identity), DIR/NAME.pem and DIR/NAME.key signed by it.
# freeDiameter 1.2.1 wants TLS credentials in its configuration even when
# no peer uses TLS; the lab and the tests make their own with openssl.
# Keys are P-256 (quick to make); certificates last 30 days.
set -e
dir=$1
shift
[ -n "$dir" ] && [ $# -gt 0 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
mkdir -p "$dir"
cd "$dir"
if [ ! -f ca.pem ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -days 30 -subj "/CN=tandem lab CA" \
		2>/dev/null
fi
for name in "$@"; do
	[ -f "$name.pem" ] && continue
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -out "$name.pem" -days 30 2>/dev/null
	rm -f "$name.csr"
done
chmod 600 ./*.key
