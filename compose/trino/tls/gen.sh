#!/usr/bin/env bash
# Regenerates the TEST-ONLY TLS and authentication material of the `dev` cluster that
# `cargo xtask e2e --backend docker` starts with HTTPS, password and JWT authentication (the
# real-Trino counterpart of the emulator's `--tls-self-signed --user alice` target).
# Nothing here protects anything: every secret in this directory is public.
#
#   ca.pem           a self-signed CA; clients (Python, the Trino CLI, mcp-trino) trust it
#   server.pem       private key + certificate for localhost / 127.0.0.1 / dev (Trino's PEM keystore)
#   password.db      alice's bcrypt hash for Trino's file password authenticator
#   jwt-hmac.key     the base64 HMAC key Trino checks JWTs with
#   jwt-alice.txt    an HS256 JWT with sub=alice, signed with that key
#
# Needs openssl and python3 (with the `crypt` module, Python <= 3.12). Run from anywhere:
#   bash compose/trino/tls/gen.sh
set -euo pipefail
cd "$(dirname "$0")"
password="emulator-secret"   # the same password the emulator's TLS target uses
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
  -subj "/CN=mcp-trino test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -keyout "$tmp/ca.key" -out ca.pem

openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr"
cat > "$tmp/ext.cnf" <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:dev
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -in "$tmp/server.csr" -CA ca.pem -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial \
  -days 3650 -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/server.crt"
# Trino reads a PEM keystore: the (unencrypted PKCS#8) key, then the certificate chain.
openssl pkcs8 -topk8 -nocrypt -in "$tmp/server.key" -out "$tmp/server.p8"
cat "$tmp/server.p8" "$tmp/server.crt" ca.pem > server.pem

python3 - "$password" <<'PY'
import warnings
warnings.simplefilter("ignore", DeprecationWarning)
import base64, crypt, hashlib, hmac, json, os, sys
password = sys.argv[1]
# Trino's file authenticator accepts bcrypt hashes with the $2y$ prefix (cost >= 8).
h = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
assert h.startswith("$2b$"), h
open("password.db", "w").write("alice:$2y$" + h[4:] + "\n")
key = os.urandom(32)
open("jwt-hmac.key", "w").write(base64.b64encode(key).decode() + "\n")
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
payload = b64(json.dumps({"sub": "alice", "exp": 4102444800}, separators=(",", ":")).encode())
sig = b64(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
open("jwt-alice.txt", "w").write(f"{header}.{payload}.{sig}\n")
PY
chmod 644 ca.pem server.pem password.db jwt-hmac.key jwt-alice.txt
echo "wrote ca.pem server.pem password.db jwt-hmac.key jwt-alice.txt"
