"""A run folder: everything needed to reuse, rerun or report one training run.

``model.pt`` (state dicts), ``config.json`` (algorithm, task spec, network shape, PPO settings, seed,
final greedy evaluation), ``curve.csv`` and ``curve.png`` (training curve). ``load_run`` rebuilds the
trained algorithm from the folder alone.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from rl_bridge.algorithms import Algorithm, build
from rl_bridge.algorithms.ppo import PPOConfig
from rl_bridge.envs import EnvSpec
from rl_bridge.errors import RLUsageError


@dataclass(frozen=True)
class TrainingRecord:
    """What config.json records about one training run (not the LLM side's run config)."""

    algo: str
    label: str
    """Algorithm name plus our variants, e.g. ``steer`` or ``steer-lt0.1``."""
    env: EnvSpec
    seed: int
    shape: dict[str, Any]
    ppo: PPOConfig
    final: dict[str, Any]
    recipe: dict[str, Any] | None = None
    """The resolved recipe (``rl_bridge.recipes``) the run followed, if any."""

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "env": asdict(self.env), "ppo": asdict(self.ppo)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingRecord:
        return cls(
            algo=data["algo"], label=data.get("label", data["algo"]), env=EnvSpec(**data["env"]), seed=data["seed"],
            shape=data["shape"], ppo=PPOConfig(**data["ppo"]), final=data.get("final", {}),
            recipe=data.get("recipe"),
        )


def save_run(folder: Path, algo: Algorithm, config: TrainingRecord, curve: list[dict[str, float]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({name: m.state_dict() for name, m in algo.modules().items()}, folder / "model.pt")
    (folder / "config.json").write_text(json.dumps(config.to_json(), indent=2))
    if curve:
        with (folder / "curve.csv").open("w", newline="") as f:
            columns = list(dict.fromkeys(key for row in curve for key in row))
            writer = csv.DictWriter(f, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(curve)
        plot_curve(folder / "curve.png", curve, f"{config.label} on {config.env.name}, seed {config.seed}")


def plot_curve(path: Path, curve: list[dict[str, float]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [row["env_steps"] for row in curve]
    ax.plot(steps, [row["train_return"] for row in curve], label="training episodes (sampled)", alpha=0.7)
    evals = [row for row in curve if row.get("greedy_score") == row.get("greedy_score")]
    ax.plot([r["env_steps"] for r in evals], [r["greedy_score"] for r in evals], "o-", ms=3, label="greedy policy")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("mean return over agents")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def load_run(folder: str | Path) -> tuple[Algorithm, TrainingRecord]:
    """Rebuild the trained algorithm of a run folder (for coordinators, distillation, reports)."""
    folder = Path(folder)
    if not (folder / "config.json").is_file() or not (folder / "model.pt").is_file():
        raise RLUsageError(f"{folder} is not a run folder (needs config.json and model.pt)")
    try:
        data = json.loads((folder / "config.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RLUsageError(f"{folder / 'config.json'} is not valid JSON ({err}); retrain or restore that file") from None
    if isinstance(data, dict) and "coordinator" in data and "algo" not in data:
        raise RLUsageError(f"{folder} is an LLM run folder (llamac), not a trained policy; point at an rl_bridge.train run")
    try:
        config = TrainingRecord.from_json(data)
        algo = build(config.algo, config.shape, config.ppo, config.seed)
    except (KeyError, TypeError, ValueError) as err:
        raise RLUsageError(f"{folder / 'config.json'} does not describe a training run ({type(err).__name__}: {err})") from None
    try:
        states = torch.load(folder / "model.pt", weights_only=True)
        for name, module in algo.modules().items():
            module.load_state_dict(states[name])
    except Exception as err:  # a torn or foreign file: pickle, zip and shape errors all land here
        raise RLUsageError(f"{folder / 'model.pt'} cannot be loaded into a {config.algo} network "
                           f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); retrain or restore that file") from None
    return algo, config


def find_runs(*roots: str | Path) -> list[Path]:
    """Every run folder under the given folders (a folder with a ``config.json``)."""
    found: list[Path] = []
    for root in roots:
        root = Path(root)
        if not root.exists():
            raise RLUsageError(f"no such folder: {root}")
        found += sorted(p.parent for p in root.rglob("config.json"))
    return found
