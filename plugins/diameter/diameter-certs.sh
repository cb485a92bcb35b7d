#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# diameter-certs.sh DIR NAME...: a lab CA (DIR/ca.pem, DIR/ca.key) and,
# for each NAME (a Diameter identity, e.g. hss.ims.lab), DIR/NAME.pem and
# DIR/NAME.key signed by it, naming NAME in CN and subjectAltName (what
# freeDiameter checks against the peer's Diameter identity with tls = yes).
#
# For the lab (contrib/lab.sh) and the tests:
#   sh plugins/diameter/diameter-certs.sh "$LAB/certs" \
#           hss.ims.lab icscf.ims.lab scscf.ims.lab pcscf.ims.lab
# then in each node's [diameter]:
#   tls_cert = $LAB/certs/NAME.pem   tls_key = $LAB/certs/NAME.key
#   tls_ca = $LAB/certs/ca.pem
#
# Run it again at any time: what exists and is valid for another day is
# kept (so nodes already configured keep working), what is missing or
# about to expire is made; a new CA re-issues every certificate in DIR.
# Keys are P-256 (quick to make); DAYS (default 365) sets the validity.
# freeDiameter 1.2.1 wants these files even when no peer uses TLS.
set -e
dir=$1
[ -n "$dir" ] && [ $# -gt 1 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
shift
days=${DAYS:-365}
command -v openssl > /dev/null || {
	echo "$0: openssl is missing (Debian package openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"

fresh() { # FILE: exists and stays valid for another day
	[ -f "$1" ] && openssl x509 -in "$1" -noout -checkend 86400 \
		> /dev/null 2>&1
}

if ! fresh ca.pem || [ ! -f ca.key ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -out ca.pem -days "$days" \
		-subj "/CN=tandem lab CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	rm -f ./*.srl
	for old in ./*.pem; do # a new CA: the old certificates go
		[ "$old" = ./ca.pem ] || rm -f "$old"
	done
fi

for name in "$@"; do
	case $name in
	*/* | "" | .* ) echo "$0: bad name '$name'" >&2; exit 2 ;;
	esac
	fresh "$name.pem" && [ -f "$name.key" ] && continue
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$name.key" -out "$name.csr" -subj "/CN=$name" \
		2>/dev/null
	printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n' "$name" \
		> "$name.ext"
	openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -out "$name.pem" -days "$days" \
		-extfile "$name.ext" 2>/dev/null
	rm -f "$name.csr" "$name.ext"
done
chmod 600 ./*.key
