#!/usr/bin/env bash
# Builds the image and runs it once against a local Postgres, as an operator would:
# `paygate check-config`, `paygate db upgrade`, then `paygate web`, and checks that
# /healthz and /readyz answer and that the image's HEALTHCHECK passes. The database
# is a fresh one, created here and dropped at the end.
#
#   scripts/try-image.sh
#
# PAYGATE_TRY_ADMIN_URL is the Postgres to use (default
# postgresql://postgres@127.0.0.1:5432/postgres: a user allowed to create databases);
# PAYGATE_TRY_PORT the port web listens on (default 18080). Needs podman; builds the
# base image with scripts/make-base-image.sh when it is not there.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${PAYGATE_TRY_IMAGE:-localhost/paygate:try}"
BASE="docker.io/library/python:3.11-slim-bookworm"
ADMIN_URL="${PAYGATE_TRY_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
PORT="${PAYGATE_TRY_PORT:-18080}"
DB="paygate_try_$(date +%s)_$$"
NAME="paygate-try-$$"

podman image exists "$BASE" || scripts/make-base-image.sh "$BASE"
# Docker format: OCI images have no HEALTHCHECK.
podman build --format docker --pull=never -t "$IMAGE" .

# Runs one statement on the admin database with the image's own driver.
admin_sql() {
    podman run --rm --network host --entrypoint python "$IMAGE" -c '
import asyncio, sys, asyncpg
async def main():
    conn = await asyncpg.connect(sys.argv[1])
    try:
        await conn.execute(sys.argv[2])
    finally:
        await conn.close()
asyncio.run(main())' "$ADMIN_URL" "$1"
}

# Telegram (and NowPayments) stand-in: web asks the Bot API who it is at start (getMe). This answers
# that, and any other method with "ok"; the real Telegram is never contacted.
TG_PORT="${PAYGATE_TRY_TELEGRAM_PORT:-18081}"
python3 - "$TG_PORT" <<'PY' &
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

ME = {"id": 123456789, "is_bot": True, "first_name": "PayGate try", "username": "paygate_try_bot",
      "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

class BotApi(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        result = ME if self.path.rstrip("/").endswith("/getMe") else True
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), BotApi).serve_forever()
PY
TG_PID=$!

cleanup() {
    kill "$TG_PID" 2> /dev/null || true
    podman rm --force --ignore "$NAME" > /dev/null || true
    admin_sql "DROP DATABASE IF EXISTS $DB" || true
}
trap cleanup EXIT

echo "== the image: non-root, no compiler, no uv"
[ "$(podman run --rm --entrypoint id "$IMAGE" -u)" != 0 ]
podman run --rm --entrypoint sh "$IMAGE" -c '! command -v gcc cc make uv'

admin_sql "CREATE DATABASE $DB"
DATABASE_URL="${ADMIN_URL%/*}/$DB"
FERNET="$(podman run --rm "$IMAGE" keys new-fernet)"
MAC="$(podman run --rm "$IMAGE" keys new-mac)"
env_args=(
    --env "PAYGATE_DATABASE_URL=$DATABASE_URL"
    --env "PAYGATE_ENCRYPTION_KEYS=$FERNET"
    --env "PAYGATE_MAC_KEYS=$MAC"
    --env "PAYGATE_HTTP_PORT=$PORT"
    --env "PAYGATE_TELEGRAM_BOT_TOKEN=123456789:try-image-never-sent-to-telegram"
    --env "PAYGATE_TELEGRAM_API_URL=http://127.0.0.1:$TG_PORT"
    --env "PAYGATE_TELEGRAM_BOT_USERNAME=paygate_try_bot"
    # Web needs the provider's settings; the same stand-in is its API, never called here.
    --env "PAYGATE_NOWPAYMENTS_API_URL=http://127.0.0.1:$TG_PORT"
    --env "PAYGATE_NOWPAYMENTS_API_KEY=try-image-key"
    --env "PAYGATE_NOWPAYMENTS_IPN_SECRET=try-image-ipn-secret"
)

echo "== paygate check-config"
podman run --rm --network host "${env_args[@]}" "$IMAGE" check-config
echo "== paygate db upgrade"
podman run --rm --network host "${env_args[@]}" "$IMAGE" db upgrade
echo "== paygate web"
podman run --detach --name "$NAME" --network host "${env_args[@]}" "$IMAGE" web > /dev/null

for _ in $(seq 60); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/healthz', timeout=2)" 2> /dev/null; then
        break
    fi
    if [ "$(podman inspect --format '{{.State.Running}}' "$NAME")" != true ]; then
        podman logs "$NAME"
        echo "paygate web stopped" >&2
        exit 1
    fi
    sleep 1
done
python3 - "$PORT" <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
for path in ("/healthz", "/readyz"):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        print(path, answer.status, json.dumps(json.loads(answer.read())))
PY
podman healthcheck run "$NAME"
echo "HEALTHCHECK: $(podman inspect --format '{{.State.Health.Status}}' "$NAME")"
podman stop --time 10 "$NAME" > /dev/null
echo "== ok: $IMAGE ran check-config, db upgrade and web on $DB"
