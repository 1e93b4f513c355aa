#!/usr/bin/env bash
# Generate a self-signed certificate and key for the Kamailio WSS listener.
#
#   ./gencert.sh [--force] [DIR]
#
# Writes DIR/kamailio-cert.pem and DIR/kamailio-key.pem. DIR defaults to
# $KAMAILIO_CERTDIR, else $KAMAILIO_BASEDIR/certs, else
# ${TMPDIR:-/tmp}/sipws-kamailio/certs: outside the source tree. Idempotent:
# does nothing if both files exist, unless --force is given. The tests trust
# this certificate (RootCAs); nothing uses InsecureSkipVerify.
set -euo pipefail
FORCE=""
if [[ "${1:-}" == "--force" ]]; then FORCE=1; shift; fi
BASE="${KAMAILIO_BASEDIR:-${TMPDIR:-/tmp}/sipws-kamailio}"
CERTDIR="${1:-${KAMAILIO_CERTDIR:-$BASE/certs}}"
CERT="$CERTDIR/kamailio-cert.pem"
KEY="$CERTDIR/kamailio-key.pem"

if [[ -z "$FORCE" && -s "$CERT" && -s "$KEY" ]]; then
  echo "gencert: $CERT and $KEY already exist (use --force to regenerate)"
  exit 0
fi

if ! command -v openssl >/dev/null 2>&1; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends openssl >/dev/null; then
    $SUDO apt-get update >/dev/null
    $SUDO apt-get install -y --no-install-recommends openssl >/dev/null
  fi
fi

mkdir -p "$CERTDIR"
# Write to temporary names and rename, so a reader never sees half a file.
TMPCERT="$(mktemp "$CERTDIR/.cert.XXXXXX")"
TMPKEY="$(mktemp "$CERTDIR/.key.XXXXXX")"
trap 'rm -f "$TMPCERT" "$TMPKEY"' EXIT
# EC P-256 key; SAN covers 127.0.0.1, ::1 and localhost so a client that
# trusts this cert (instead of InsecureSkipVerify) verifies cleanly.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -days 3650 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,digitalSignature,keyCertSign" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$TMPKEY" -out "$TMPCERT" 2>/dev/null
chmod 600 "$TMPKEY"
chmod 644 "$TMPCERT"
mv -f "$TMPKEY" "$KEY"
mv -f "$TMPCERT" "$CERT"
echo "gencert: wrote $CERT and $KEY"
openssl x509 -in "$CERT" -noout -subject -ext subjectAltName -enddate
