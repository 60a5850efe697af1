"""Trace a matrix-game run's first-step policies over training (issue 19 item 4's diagnosis).

Trains exactly as ``python -m rl_bridge.train`` with the same flags (one seed, no run folder) and,
at every greedy evaluation (``--eval-every`` updates), records for the first step of the game: the
leader's action probabilities, the follower's probabilities given each leader action (teacher
forced), the de-normalised values V_0(s) and V_1(s, a_0), and the greedy joint action. Prints one
line per evaluation; ``--trace FILE`` also writes them as CSV.

    PYTHONPATH=. .venv/bin/python scripts/se_trace.py --algo steer --game penalty --k -1000 \\
        --n-envs 100 --episode-length 10 --seeds 0 --leader-timescale 0.1 --out unused/ [--trace t.csv]

Run from the repository root with ``PYTHONPATH=.`` so the checkout's ``rl_bridge`` is imported.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import torch

import rl_bridge.train as train
from rl_bridge.cli import configure_torch


def first_step_policies(algo, spec) -> dict[str, object]:  # noqa: ANN001
    game = spec.task()
    view = game.arrays(game.initial_state())
    a = game.n_actions
    obs = torch.as_tensor(np.asarray(view.obs))[None].float().repeat(a, 1, 1)
    state = torch.as_tensor(np.asarray(view.state))[None].float().repeat(a, 1)
    mask = torch.as_tensor(np.asarray(view.mask))[None].repeat(a, 1, 1)
    actions = torch.stack([torch.arange(a), torch.zeros(a, dtype=torch.long)], 1)  # leader plays row r
    with torch.no_grad():
        log_policy, values = algo.net.joint_policy(obs, state, actions, mask)
    probs, values = log_policy.exp(), algo.value_norm.denormalize(values)
    row: dict[str, object] = {f"lead_p{r}": round(float(probs[0, 0, r]), 3) for r in range(a)}
    for r in range(a):
        row |= {f"fol_p{c}|{r}": round(float(probs[r, 1, c]), 3) for c in range(a)}
    row["V0"] = round(float(values[0, 0]), 2)
    row |= {f"V1|{r}": round(float(values[r, 1]), 2) for r in range(a)}
    return row


def main(argv: list[str] | None = None) -> int:
    configure_torch()
    argv = list(sys.argv[1:] if argv is None else argv)
    trace_file = None
    if "--trace" in argv:
        i = argv.index("--trace")
        trace_file = Path(argv[i + 1])
        del argv[i : i + 2]
    args = train.parser().parse_args(argv)
    spec, cfg = train.config_from_args(args)
    rows: list[dict[str, object]] = []
    evaluate = train.evaluate
    updates = {"n": 0}

    def traced(algo, spec_):  # noqa: ANN001, ANN202
        result = evaluate(algo, spec_)
        updates["n"] += 1
        rows.append({"env_steps": getattr(algo, "steps_done", 0), "greedy_joint": result["greedy_joint"],
                     "at_se": result["at_se"], **first_step_policies(algo, spec_)})
        return result

    train.evaluate = traced
    seed = train.parse_seeds(args.seeds)[0]
    _, config = train.train_run(args.algo, spec, seed, cfg, None, args.eval_every, train.net_options(args), log=False)
    print(f"{spec.name} {config.label} seed {seed}: final {config.final['greedy_joint']} at_se={config.final['at_se']:.0f} "
          f"({config.final['wall_s']:.0f} s)")
    for row in rows:
        print(" ".join(f"{k}={v}" for k, v in row.items()))
    if trace_file is not None:
        trace_file.parent.mkdir(parents=True, exist_ok=True)
        with trace_file.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
