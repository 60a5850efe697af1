#!/usr/bin/env bash
# Trains the runs behind results/rl_recipes.md: each named recipe (rl_bridge/recipes.toml), seed 0,
# one after another (one process, one torch thread), then writes the table, CSV and curves.
#
#   scripts/rl_recipes.sh [OUT] [RECIPE[:ALGO] ...]
#       OUT defaults to runs/recipes; RECIPE defaults to every recipe for STEER, e.g.
#       scripts/rl_recipes.sh runs/recipes grid-easy-2x4 grid-easy-2x4:mappo
#
# A run whose config.json exists is kept, so an interrupted sweep continues where it stopped.
# The trained policies shipped under rl_bridge/policies/<recipe>/<algo>/seed0 are copies of these runs'
# model.pt, config.json and curve.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
out=${1:-runs/recipes}
[ $# -gt 0 ] && shift
items=("$@")
[ ${#items[@]} -gt 0 ] || items=(grid-easy-2x2 grid-easy-2x4 grid-hard-2x2 grid-hard-2x4 alloc-5 alloc-10 alloc-50 grid-easy-4x8)

for item in "${items[@]}"; do
  recipe=${item%%:*}
  algo=steer
  [[ $item == *:* ]] && algo=${item#*:}
  case $recipe in
    grid-*) d=${recipe#grid-}; folder="grid_${d%%-*}_${d#*-}" ;;
    alloc-*) folder="alloc_n${recipe#alloc-}" ;;
    *) echo "error: unknown recipe '$recipe'" >&2; exit 2 ;;
  esac
  if [ -f "$out/$folder/$algo/seed0/config.json" ]; then
    echo "kept $out/$folder/$algo/seed0"
    continue
  fi
  /usr/bin/time -f "$recipe $algo: %e s wall" nice -n 5 "$PY" -m rl_bridge.train --recipe "$recipe" --algo "$algo" \
    --seeds 0 --out "$out" --eval-every 5
done
"$PY" -m rl_bridge.recipe_report "$out" --out results/rl_recipes
