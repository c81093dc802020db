#!/bin/sh
# Entrypoint of the server image: the database password from a file (a compose/Kubernetes
# secret), never from the image or an inline variable; then the schema migrations; then the
# server itself (or any other tidewatch-server subcommand given as arguments).
set -eu

SERVER="node ${TIDEWATCH_SERVER_JS:-/opt/tidewatch/apps/server/bin/tidewatch-server.js}"

if [ -n "${DATABASE_PASSWORD_FILE:-}" ]; then
  if [ ! -r "$DATABASE_PASSWORD_FILE" ]; then
    echo "tidewatch-server-entrypoint: DATABASE_PASSWORD_FILE=$DATABASE_PASSWORD_FILE is not readable" >&2
    exit 2
  fi
  # The password goes into DATABASE_URL percent-encoded; the URL.password setter alone would
  # leave "%" as it is, and the driver would decode it into something else.
  DATABASE_URL=$(node -e '
    const u = new URL(process.env.DATABASE_URL);
    const pw = require("fs").readFileSync(process.env.DATABASE_PASSWORD_FILE, "utf8").replace(/\r?\n$/, "");
    u.password = encodeURIComponent(pw);
    process.stdout.write(u.href);')
  export DATABASE_URL
fi

if [ "${1:-serve}" = "serve" ]; then
  # Migrations run once here, before the server starts; the server then only checks the schema.
  $SERVER migrate run
  shift $(( $# > 0 ? 1 : 0 ))
  exec $SERVER serve --no-migrate "$@"
fi
exec $SERVER "$@"
