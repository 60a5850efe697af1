"""RL side: STEER, MAPPO/HAPPO/MAT/STEP, distillation, RL coordinators. Needs the ``rl`` extra (torch)."""
