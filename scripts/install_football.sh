#!/usr/bin/env bash
# Installs Google Research Football (gfootball 2.10.2, built from source) into a venv, for the
# `football` extra. Also run by `LLAMAC_FOOTBALL=1 bash setup.sh` (into .venv).
#
#   scripts/install_football.sh [VENV]        # default .venv
#
# Steps: Debian's SDL2, Boost and GL development packages (apt-get, when run as root and missing);
# the build's own Python needs (psutil, six, wheel; gym 0.25.2, since 0.26 changed reset/step);
# then the wheel is compiled once (about 6 minutes on 2 idle cores) into a cache of ours and installed
# with its runtime dependencies.
# Pitfalls this handles: the engine's build script imports psutil, so the build must see the venv's
# packages (--no-build-isolation, venv first on PATH); six is imported but not declared.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
[ -x "$venv/bin/python" ] || { echo "install_football: no Python in $venv" >&2; exit 2; }
GFOOTBALL_VERSION=2.10.2
DEB_PACKAGES="build-essential cmake libgl1-mesa-dev libsdl2-dev libsdl2-image-dev libsdl2-ttf-dev libsdl2-gfx-dev libboost-all-dev libdirectfb-dev libst-dev"

if ! dpkg -s libsdl2-gfx-dev libboost-all-dev libgl1-mesa-dev >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $DEB_PACKAGES
  else
    echo "install_football: as root, run: apt-get update && apt-get install -y $DEB_PACKAGES" >&2
    exit 1
  fi
fi

export PATH="$(cd "$venv" && pwd)/bin:$PATH"
python -m pip install -q psutil six wheel "gym==0.25.2"
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/llamac/wheels/gfootball-$GFOOTBALL_VERSION"
if ! ls "$wheels"/gfootball-"$GFOOTBALL_VERSION"-*.whl >/dev/null 2>&1; then
  echo "install_football: compiling gfootball $GFOOTBALL_VERSION (a few minutes, once per machine)" >&2
  MAKEFLAGS=${MAKEFLAGS:--j2} python -m pip wheel -q --no-build-isolation --no-deps \
    "gfootball==$GFOOTBALL_VERSION" -w "$wheels"
fi
# The wheel with its declared runtime needs (absl-py, pygame, opencv-python, scipy); gym stays at the
# 0.25.2 installed above, which satisfies its "gym>=0.11.0".
python -m pip install -q "$wheels"/gfootball-"$GFOOTBALL_VERSION"-*.whl "gym==0.25.2"
python -c "import gfootball.env" && echo "install_football: gfootball $GFOOTBALL_VERSION ready in $venv" >&2
