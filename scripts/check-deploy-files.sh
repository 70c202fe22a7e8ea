#!/usr/bin/env bash
# Validates compose.yaml and deploy/systemd/ with the tools that judge them, where
# they are installed: `docker compose config` or `podman-compose config`, and
# `systemd-analyze verify`. Exit status 0 when every available check passes.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# compose.yaml names an env file and secret files the operator writes; stand-ins.
cp compose.yaml "$work/"
touch "$work/.env"
mkdir "$work/secrets"
for name in postgres_password telegram_bot_token telegram_webhook_secret \
    nowpayments_api_key nowpayments_ipn_secret encryption_keys mac_keys; do
    echo stand-in > "$work/secrets/$name"
done
if docker compose version > /dev/null 2>&1; then
    (cd "$work" && docker compose config --quiet && docker compose --profile polling config --quiet)
    echo "compose.yaml: docker compose accepts it"
elif command -v podman-compose > /dev/null && podman-compose config --help > /dev/null 2>&1; then
    (cd "$work" && podman-compose config > /dev/null && podman-compose --profile polling config > /dev/null)
    echo "compose.yaml: podman-compose accepts it"
else
    echo "compose.yaml: no docker compose or podman-compose with 'config' here; not checked"
fi

if command -v systemd-analyze > /dev/null; then
    # The units run /opt/paygate/bin/paygate, which this machine need not have: the
    # copies point at /bin/true so that verify judges everything else.
    mkdir "$work/units"
    for unit in deploy/systemd/*; do
        sed 's|/opt/paygate/bin/paygate|/bin/true|' "$unit" > "$work/units/$(basename "$unit")"
    done
    out="$(cd "$work/units" && systemd-analyze verify --man=no ./paygate.target \
        ./paygate-migrate.service ./paygate-web@8080.service ./paygate-worker@1.service \
        ./paygate-bot.service 2>&1)" || { echo "$out"; exit 1; }
    if [ -n "$out" ]; then
        echo "$out"
        exit 1
    fi
    echo "deploy/systemd: systemd-analyze verify accepts the units"
else
    echo "deploy/systemd: no systemd-analyze here; not checked"
fi
