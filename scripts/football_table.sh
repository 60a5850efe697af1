#!/usr/bin/env bash
# Trains STEER on the three Google Research Football academy scenarios within a wall-time cap each,
# distils per-agent students from each teacher, and writes the teacher/student/paper table.
#
#   scripts/football_table.sh OUT [MINUTES [SCENARIO ...]]   # MINUTES of training per scenario (default 12)
#
# TEACHER_STEPS (default 16000): environment steps of teacher rollouts the students learn from.
# Needs the football extra (scripts/install_football.sh). Runs whose config.json exists are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/football_table.sh OUT [MINUTES]" >&2; exit 2; }
out=$1
minutes=${2:-12}
shift $(( $# >= 2 ? 2 : 1 ))
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(academy_pass_and_shoot_with_keeper academy_3_vs_1_with_keeper academy_counterattack_easy)
PYTHON=${PYTHON:-.venv/bin/python}
for scenario in "${scenarios[@]}"; do
  task="$out/football_${scenario#academy_}"
  [ -f "$task/steer/seed0/config.json" ] || "$PYTHON" -m rl_bridge.train --algo steer --task football \
    --scenario "$scenario" --seeds 0 --budget-minutes "$minutes" --eval-every 1000000 --out "$out"
  [ -f "$task/student-sampled/seed0/config.json" ] || "$PYTHON" -m rl_bridge.distill --teacher "$task/steer/seed0" \
    --out "$task/student-sampled/seed0" --n-envs 8 --teacher-steps "${TEACHER_STEPS:-16000}"
done
"$PYTHON" -m rl_bridge.football.table "$out"
