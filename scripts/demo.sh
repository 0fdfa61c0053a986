#!/usr/bin/env bash
# The kiosk demo against a local, seeded directory: OpenLDAP (ppolicy, TLS) and an SMTP mailbox on
# loopback, the real agent, and scripted sessions through the real protocol client (`drive`) — a locked-
# out person unlocks with an emailed code, then an unknown name walks the same screens and fails.
# Called by `scripts/dev demo` after the build; everything lives in a temporary directory and stops on exit.
# Until the touchscreen UI exists, the session is shown as the transcript of screens the UI would draw.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SSPR_BIN:-target/release/sspr-kiosk}
say() { printf "\033[1mdemo:\033[0m %s\n" "$*"; }

DIR=$(mktemp -d /tmp/sspr-demo.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${SSPR_KEEP_DEMO:-}" ] || rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LDAP_PORT=$(free_port); LDAPS_PORT=$(free_port); SMTP_PORT=$(free_port)

say "certificates for 127.0.0.1 (a throwaway CA)"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sspr-demo CA" \
  -keyout "$DIR/ca.key" -out "$DIR/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$DIR/server.key" -out "$DIR/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$DIR/san.ext"
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial -days 2 \
  -extfile "$DIR/san.ext" -out "$DIR/server.pem" >/dev/null 2>&1

say "OpenLDAP with ppolicy on ldaps://127.0.0.1:$LDAPS_PORT"
ROOT_PW=demo-root-$RANDOM$RANDOM; SERVICE_PW=demo-service-$RANDOM$RANDOM
mkdir -p "$DIR/slapd.d" "$DIR/data"
sed -e "s#@DIR@#$DIR#g" -e "s#@TLS_CA@#$DIR/ca.pem#" -e "s#@TLS_CERT@#$DIR/server.pem#" \
    -e "s#@TLS_KEY@#$DIR/server.key#" -e "s#@ROOT_PW@#$ROOT_PW#" \
    -e "s#@SSPR_SCHEMA@#$PWD/docs/directory/openldap-sspr-kiosk.ldif#" \
    tests/fixtures/slapd_config.ldif > "$DIR/config.ldif"
sed -e "s#@SERVICE_PW@#$SERVICE_PW#" tests/fixtures/slapd_seed.ldif > "$DIR/seed.ldif"
slapadd -q -n0 -F "$DIR/slapd.d" -l "$DIR/config.ldif"
slapadd -q -n1 -F "$DIR/slapd.d" -l "$DIR/seed.ldif"
slapd -h "ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/" -F "$DIR/slapd.d" -d 0 >"$DIR/slapd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do ldapsearch -x -H "ldap://127.0.0.1:$LDAP_PORT" -b "" -s base >/dev/null 2>&1 && break; sleep 0.1; done

USER_DN="uid=demo.user,ou=people,dc=example,dc=test"; USER_PW="Demo#User-Password-2024"
ldapadd -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "cn=admin,dc=example,dc=test" -w "$ROOT_PW" >/dev/null <<LDIF
dn: $USER_DN
objectClass: inetOrgPerson
uid: demo.user
cn: Dana Demo
sn: Demo
givenName: Dana
displayName: Dana Demo
mail: demo.user@example.test
userPassword: $USER_PW
LDIF
for attempt in 1 2 3; do
  ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$USER_DN" -w "wrong-$attempt" >/dev/null 2>&1 || true
done
if ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$USER_DN" -w "$USER_PW" >/dev/null 2>&1; then
  say "could not lock the demo user"; exit 1
fi
say "demo.user (Dana Demo) is locked out after 3 wrong passwords"

say "SMTP mailbox on 127.0.0.1:$SMTP_PORT"
mkdir -p "$DIR/spool"
/usr/bin/python3 tests/fixtures/smtp_capture.py --port "$SMTP_PORT" --spool "$DIR/spool" >"$DIR/smtp.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && break; sleep 0.1; done

mkdir -p "$DIR/credentials"
printf '%s' "$SERVICE_PW" > "$DIR/credentials/ldap-bind-password"
head -c 32 /dev/urandom | base64 > "$DIR/credentials/device-key"
head -c 32 /dev/urandom | base64 > "$DIR/credentials/registration-key"
cat > "$DIR/kiosk.toml" <<TOML
version = 1
[site]
kiosk_id = "demo-kiosk"
location = "Your desk"
helpdesk = "Demo helpdesk, ext. 1234"
data_dir = "$DIR"
ui_socket = "$DIR/ui.sock"
[directory]
flavour = "openldap"
urls = ["ldaps://127.0.0.1:$LDAPS_PORT"]
base_dn = "dc=example,dc=test"
bind_dn = "cn=sspr-kiosk,ou=services,dc=example,dc=test"
bind_password = { credential = "ldap-bind-password" }
[directory.attributes]
identifiers = ["uid", "mail"]
email = ["mail"]
registration = "ssprRegistration"
[gates]
enabled = ["email", "totp"]
[policy]
privileged_groups = ["cn=admins,ou=groups,dc=example,dc=test"]
[delivery.email]
host = "127.0.0.1"
port = $SMTP_PORT
security = "insecure-for-tests"
from = "kiosk@example.test"
[trust]
directory_ca = "$DIR/ca.pem"
[keys]
device_key = { credential = "device-key" }
registration_key = { id = "demo", secret = { credential = "registration-key" } }
TOML

say "the agent"
CREDENTIALS_DIRECTORY="$DIR/credentials" "$BIN" agent --config "$DIR/kiosk.toml" --board /nonexistent \
  >"$DIR/agent.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$DIR/ui.sock" ] && break; sleep 0.1; done

cat > "$DIR/latest-code" <<'SH'
#!/bin/sh
# Prints the one-time code of the newest message in the demo mailbox (waits up to 10 s for it).
for _ in $(seq 100); do
  f=$(ls "$1"/*.toml 2>/dev/null | tail -n 1)
  if [ -n "$f" ]; then grep '^body_text' "$f" | grep -oE '\\u000A *[0-9]{6,10}\\u000A' | grep -oE '[0-9]{6,10}' | head -n 1; exit 0; fi
  sleep 0.1
done
exit 1
SH
chmod +x "$DIR/latest-code"

cat > "$DIR/unlock.txt" <<SCRIPT
identify demo.user
expect choose-method
choose email:0
expect enter-code
enter-code \$($DIR/latest-code $DIR/spool)
expect choose-action
choose action:unlock
expect receipt
SCRIPT
say "session 1 — Dana unlocks with a code sent to her mailbox (one line per screen):"
"$BIN" drive --socket "$DIR/ui.sock" "$DIR/unlock.txt"
if ldapwhoami -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$USER_DN" -w "$USER_PW" >/dev/null 2>&1; then
  say "the directory confirms: demo.user is unlocked and her old password works again"
else
  say "demo.user is still locked — see $DIR/agent.log"; exit 1
fi

cat > "$DIR/unknown.txt" <<SCRIPT
identify no.such.person
expect choose-method
choose #1
expect enter-code
enter-code 123456
expect enter-code code.wrong
SCRIPT
say "session 2 — a name that does not exist sees the same screens (nothing is sent, nothing is revealed):"
"$BIN" drive --socket "$DIR/ui.sock" "$DIR/unknown.txt"
say "the audit lines the agent wrote:"
grep 'audit' "$DIR/agent.log" | sed 's/^/  /' || true
say "done. The touchscreen UI is not built yet; the agent, directory, email and flow above are the real ones."
