"""RL side: STEER, MAPPO/HAPPO/MAT/STEP, distillation, RL coordinators. Needs the ``rl`` extra (torch).

Layout: ``networks/`` (STEER, MAT, MLPs, STEP's hypernetwork), ``algorithms/`` (one per algorithm on
the shared PPO machinery), ``vec_env``/``rollout`` (vectorised rollouts over the shared tasks),
``envs`` (which task a run trains on), ``run_folder`` (checkpoints), ``train``/``report``/``distill``
(CLIs), ``coordinator`` (trained policies as ``tasks.coordinator.Coordinator``).
"""

from rl_bridge.errors import RLUsageError

__all__ = ["RLUsageError"]
