#!/usr/bin/env bash
# Trains every run behind results/steer_ablations.md: STEER as specified and its ablations (no ITB,
# no OTB, priority random per episode, priority rotating) on the six matrix-game settings, seeds 0-9,
# the authors' 2e5 environment steps per run (MATRIX_STEPS overrides, for every row alike).
#
#   scripts/ablation_table.sh OUT [GAME ...]   # GAME: penalty_k0 penalty_k-100 penalty_k-1000 mixing
#                                              #       coordination cooperation (default: all six)
#   python -m rl_bridge.report OUT --md table.md --csv results/steer_ablations.csv --png results/steer_ablations.png
#
# Runs whose config.json exists are kept, so an interrupted sweep continues where it stopped; give
# disjoint GAME lists to two invocations to use two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/matrix_games.sh
source scripts/matrix_games.sh
[ $# -ge 1 ] || { echo "usage: scripts/ablation_table.sh OUT [GAME ...]" >&2; exit 2; }
out=$1; shift
games=("$@")
[ ${#games[@]} -gt 0 ] || games=(penalty_k0 penalty_k-100 penalty_k-1000 mixing coordination cooperation)
SEEDS=${ABLATION_SEEDS:-0,1,2,3,4,5,6,7,8,9}
STEPS=${MATRIX_STEPS:-200000}
PYTHON=${PYTHON:-.venv/bin/python}

for game in "${games[@]}"; do
  game_args "$game"
  for variant in steer steer-no-itb steer-no-otb steer-prio-random steer-prio-rotate; do
    case $variant in
      steer) extra=() ;;
      steer-no-itb) extra=(--no-itb) ;;
      steer-no-otb) extra=(--no-otb) ;;
      steer-prio-*) extra=(--priority "${variant#steer-prio-}") ;;
    esac
    todo=()
    for seed in ${SEEDS//,/ }; do
      [ -f "$out/$game/$variant/seed$seed/config.json" ] || todo+=("$seed")
    done
    [ ${#todo[@]} -gt 0 ] || continue
    seeds=$(IFS=,; echo "${todo[*]}")
    "$PYTHON" -m rl_bridge.train --algo steer "${args[@]}" "${extra[@]}" --seeds "$seeds" --steps "$STEPS" --out "$out"
  done
done
