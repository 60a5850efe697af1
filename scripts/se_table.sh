#!/usr/bin/env bash
# Trains every run behind results/steer_se.md (issue 19 item 4): STEER with the chosen SE recipe
# (leader timescale 0.1 + followers first for 0.2 of the steps, label steer-lt0.1-ff0.2), then
# steer-lt0.1 and STEER as specified for comparison, on the six matrix-game settings, the authors'
# 2e5 environment steps per run, on the unseen seeds 100-119 (the recipe was picked on seeds 0-9).
#
#   scripts/se_table.sh OUT [GAME ...]         # GAME: penalty_k0 penalty_k-100 penalty_k-1000 mixing
#                                              #       coordination cooperation (default: all six)
#   SE_SEEDS=0,1,2,3,4,5,6,7,8,9 scripts/se_table.sh OUT ...     # the development seeds
#   SE_VARIANTS="steer-lt0.1-ff0.2" scripts/se_table.sh OUT ...   # only some rows
#   python -m rl_bridge.report OUT --md table.md --csv results/steer_se.csv --png results/steer_se.png
#
# Variants run in the order given (the recipe first), game by game within a variant. Runs whose
# config.json exists are kept, so an interrupted sweep continues where it stopped. Every run is
# niced; one process at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/matrix_games.sh
source scripts/matrix_games.sh
[ $# -ge 1 ] || { echo "usage: scripts/se_table.sh OUT [GAME ...]" >&2; exit 2; }
out=$1; shift
games=("$@")
[ ${#games[@]} -gt 0 ] || games=(penalty_k-1000 penalty_k-100 coordination mixing penalty_k0 cooperation)
SEEDS=${SE_SEEDS:-$(seq -s, 100 119)}
STEPS=${MATRIX_STEPS:-200000}
VARIANTS=${SE_VARIANTS:-steer-lt0.1-ff0.2 steer-lt0.1 steer}
PYTHON=${PYTHON:-.venv/bin/python}

for variant in $VARIANTS; do
  case $variant in
    steer) extra=() ;;
    steer-lt*-ff*) lt=${variant#steer-lt}; extra=(--leader-timescale "${lt%-ff*}" --follower-first "${variant##*-ff}") ;;
    steer-lt*) extra=(--leader-timescale "${variant#steer-lt}") ;;
    steer-ff*) extra=(--follower-first "${variant#steer-ff}") ;;
    *) echo "error: unknown variant '$variant'" >&2; exit 2 ;;
  esac
  for game in "${games[@]}"; do
    game_args "$game"
    for seed in ${SEEDS//,/ }; do
      [ -f "$out/$game/$variant/seed$seed/config.json" ] && continue
      nice -n 5 "$PYTHON" -m rl_bridge.train --algo steer "${args[@]}" "${extra[@]}" \
        --seeds "$seed" --steps "$STEPS" --out "$out"
    done
  done
done
