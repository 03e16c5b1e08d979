#!/bin/sh
# Certificates for the Temporal frontend's mTLS in temporal-compose.yml: a private CA, the
# server's certificate (for the name `temporal`, the service's name on the compose network)
# and one client certificate that the API, the workers, the UI and the admin tools present.
#
#   deploy/temporal/make-certs.sh /srv/nexus/temporal-tls
#   TEMPORAL_TLS_DIR=/srv/nexus/temporal-tls docker compose -f temporal-compose.yml up -d
#
# The frontend refuses any client without a certificate signed by this CA. Keep the
# directory private (ca.key above all: whoever holds it can mint clients); rotate before
# the certificates expire (DAYS).
set -eu

DIR=${1:?usage: make-certs.sh DIRECTORY}
DAYS=${DAYS:-365}
mkdir -p "$DIR"
umask 077
cd "$DIR"

openssl req -x509 -newkey rsa:4096 -sha256 -nodes -days "$DAYS" \
  -keyout ca.key -out ca.pem -subj "/CN=NEXUS Temporal CA"

sign() { # name, subject, extensions
  openssl req -newkey rsa:2048 -sha256 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -sha256 -days "$DAYS" -in "$1.csr" -CA ca.pem -CAkey ca.key \
    -CAcreateserial -out "$1.pem" -extfile "$1.ext"
  rm "$1.csr" "$1.ext"
}
sign server "/CN=temporal" "subjectAltName=DNS:temporal,DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
sign client "/CN=nexus" "extendedKeyUsage=clientAuth"
# The containers run as non-root users: the certificates and keys must be readable by them.
chmod 0644 ca.pem server.pem client.pem server.key client.key
echo "certificates in $DIR"
