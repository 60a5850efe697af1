#!/usr/bin/env bash
# Trains every run behind results/matrix_games.md: five algorithms (and STEER with the leader timescale
# 0.1) on the six matrix-game settings, seeds 0-4, the authors' 2e5 environment steps per run.
#
#   scripts/matrix_table.sh OUT [GAME ...]     # GAME: penalty_k0 penalty_k-100 penalty_k-1000 mixing
#                                              #       coordination cooperation (default: all six)
#   .venv/bin/python -m rl_bridge.report OUT --md table.md --csv results/matrix_games.csv --png results/matrix_games.png
#
# Give disjoint GAME lists to two invocations to use two cores. Runs whose config.json exists are kept,
# so an interrupted sweep continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/matrix_games.sh
source scripts/matrix_games.sh
[ $# -ge 1 ] || { echo "usage: scripts/matrix_table.sh OUT [GAME ...]" >&2; exit 2; }
out=$1; shift
games=("$@")
[ ${#games[@]} -gt 0 ] || games=(penalty_k0 penalty_k-100 penalty_k-1000 mixing coordination cooperation)
SEEDS=0,1,2,3,4
STEPS=${MATRIX_STEPS:-200000}

for game in "${games[@]}"; do
  game_args "$game"
  for variant in steer steer-lt0.1 step mat happo mappo; do
    algo=${variant%-lt0.1}
    extra=()
    [ "$variant" = steer-lt0.1 ] && extra=(--leader-timescale 0.1)
    for seed in ${SEEDS//,/ }; do
      [ -f "$out/$game/$variant/seed$seed/config.json" ] && continue
      .venv/bin/python -m rl_bridge.train --algo "$algo" "${args[@]}" "${extra[@]}" \
        --seeds "$seed" --steps "$STEPS" --out "$out"
    done
  done
done
