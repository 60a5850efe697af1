#!/usr/bin/env bash
# Re-records the cassettes of the tests marked `vcr` against the local model server.
#
#   scripts/record_cassettes.sh                                  # every vcr test under tests/
#   scripts/record_cassettes.sh tests/graphs/test_episodes_recorded.py
#   scripts/record_cassettes.sh notebook                         # the comparison notebook's cassette
#
# The server listens on the FIXED address 127.0.0.1:8765 (tests.conftest.RECORD_URL), so the URIs in
# the cassettes are stable and a replay needs no server. A server already answering there with the
# same model is reused; otherwise one is started for the recording and stopped afterwards.
# Cassettes land in cassettes/<tests subfolder>/<module>/<test>.yaml; never edit them by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=8765
URL="http://127.0.0.1:${PORT}/v1"
MODEL=${LLAMAC_LOCAL_MODEL:-qwen-0.5b}

answers() {
  "$PY" - "$URL" "$MODEL" <<'PYCHECK'
import sys, httpx
try:
    ids = [m["id"] for m in httpx.get(sys.argv[1] + "/models", timeout=10).json()["data"]]
except Exception:
    sys.exit(1)
sys.exit(0 if sys.argv[2] in ids else 1)
PYCHECK
}

if answers; then
  echo "record: using the ${MODEL} server already at ${URL}" >&2
else
  "$PY" -m llamac.runtime.local_model prepare --quiet
  "$PY" -m llamac.runtime.local_model serve --port "$PORT" --model "$MODEL" >&2 &
  server=$!
  trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 240); do
    answers && break
    kill -0 "$server" 2>/dev/null || { echo "record: the local model server did not start" >&2; exit 1; }
    sleep 0.5
  done
  answers || { echo "record: no answer at ${URL}" >&2; exit 1; }
fi

# The notebook records its own cassette (its LLM calls run in the notebook's kernel, not in pytest).
NOTEBOOK_TEST=tests/notebooks/test_compare_notebook.py
NOTEBOOK_CASSETTE=cassettes/notebooks/compare_llm_vs_steer.yaml
record_notebook() {
  rm -f "$NOTEBOOK_CASSETTE"
  env -u CI LLAMAC_NOTEBOOK_RECORD_MODE=all "$PY" -m pytest -q "$NOTEBOOK_TEST::test_the_comparison_notebook_executes"
}

if [ "$#" -eq 0 ]; then
  env -u CI "$PY" -m pytest -m vcr --record-mode=rewrite -q tests
  record_notebook
elif [ "$1" = "$NOTEBOOK_TEST" ] || [ "$1" = notebook ]; then
  record_notebook
else
  env -u CI "$PY" -m pytest -m vcr --record-mode=rewrite -q "$@"
fi
