#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing:
# redis-server (real Redis for queue tests), TrueType fonts (rendered-text tests) and
# Chromium (the web page's browser tests drive it through Playwright; no browser is
# ever downloaded by Playwright itself).
set -euo pipefail

packages=()
command -v redis-server > /dev/null || packages+=(redis-server)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || packages+=(fonts-dejavu-core)
[ -d /usr/share/fonts/truetype/liberation2 ] || packages+=(fonts-liberation2)
[ -d /usr/share/fonts/truetype/freefont ] || packages+=(fonts-freefont-ttf)
[ -d /usr/share/fonts/truetype/noto ] || packages+=(fonts-noto-core)
[ -x /usr/bin/chromium ] || packages+=(chromium)

if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
echo "installing Debian packages: ${packages[*]}"
if [ "$(id -u)" -ne 0 ]; then
    sudo=sudo
else
    sudo=
fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${packages[@]}"
