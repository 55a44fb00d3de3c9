#!/usr/bin/env bash
# Development certificates and the SCRAM user for the dev broker's secured listeners (openssl + keytool).
#   dev-tls.sh DIR     make, once, in DIR (files that exist are kept):
#     ca.pem ca.key               a development CA, valid 30 days (never trust it outside development)
#     broker.p12                  the broker's key and certificate (SAN localhost, 127.0.0.1), PKCS12
#     truststore.p12              ca.pem as a PKCS12 trust store: the broker verifies client certificates with it
#     client.pem client.key       a client certificate for the mTLS listener (CN=gridwatch-dev), PEM (Python clients)
#     client.p12                  the same key and certificate as PKCS12 (the Java Kafka CLI: --command-config)
#     store.password              password of broker.p12, truststore.p12 and client.p12
#     scram-user scram.password   the SCRAM-SHA-512 user kafka-dev.sh creates when it formats a broker
# Prints DIR. Needs openssl and keytool (from the JDK that runs the broker).
set -euo pipefail
dir=${1:?usage: dev-tls.sh DIR}
mkdir -p "$dir"
cd "$dir"
umask 077

[ -f store.password ] || openssl rand -hex 16 > store.password
[ -f scram-user ] || echo "gridwatch" > scram-user
[ -f scram.password ] || openssl rand -hex 16 > scram.password
pw=$(cat store.password)

if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
    -subj "/CN=gridwatch development CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

# sign NAME SUBJECT EXTENSIONS: NAME.key + NAME.pem signed by the CA
sign() {
  local name=$1 subject=$2 ext=$3
  openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  printf '%s\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

if [ ! -f broker.p12 ]; then
  sign broker "/CN=localhost" "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
  openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
    -out broker.p12 -passout "pass:$pw"
  rm -f broker.key
fi
if [ ! -f truststore.p12 ]; then
  keytool -importcert -noprompt -alias dev-ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 \
    -storepass "$pw" >/dev/null 2>&1
fi
if [ ! -f client.pem ]; then
  sign client "/CN=gridwatch-dev" "extendedKeyUsage=clientAuth"
fi
if [ ! -f client.p12 ]; then
  openssl pkcs12 -export -in client.pem -inkey client.key -name client -out client.p12 -passout "pass:$pw"
fi
chmod 644 ca.pem
pwd
