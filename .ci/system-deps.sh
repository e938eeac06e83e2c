#!/usr/bin/env bash
# System packages the test suite needs beyond Python: installed here, by the project's own
# files, so a fresh machine (CI, a new developer) gets them from `make test`.
#   rabbitmq-server  the real RabbitMQ broker of the deployment matrix (tests start their own
#                    node on free loopback ports; the package does not start the service)
#   chromium         headless browser for the dashboard's browser tests
# Each is installed only when missing; without root (or sudo) the script says what to install.
set -euo pipefail

need=()
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] \
    || need+=(rabbitmq-server)
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "system-deps: missing ${need[*]}; install them (apt-get install -y ${need[*]})" >&2
    exit 1
fi

echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
