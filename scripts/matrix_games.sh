# Sourced by the matrix-game sweeps (matrix_table.sh, ablation_table.sh, se_table.sh): one game setting's
# `rl_bridge.train` arguments, the authors' 1,000 samples per update (100 envs x 10 steps for the
# single-step games, 50 x 20 for the multi-step ones; results/matrix_games.md).
#
#   game_args GAME     # sets the array `args`; GAME: penalty_kK mixing coordination cooperation
game_args() {
  case $1 in
    penalty_k*) args=(--game penalty --k "${1#penalty_k}" --n-envs 100 --episode-length 10) ;;
    mixing) args=(--game mixing --n-envs 100 --episode-length 10) ;;
    coordination|cooperation) args=(--game "$1" --n-envs 50 --episode-length 20) ;;
    *) echo "error: unknown game setting '$1'" >&2; exit 2 ;;
  esac
}
