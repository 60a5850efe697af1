"""Google Research Football academy scenarios as a vectorised environment for the same trainer.

``features`` turns a controlled player's raw observation into the feature vector and available-action
mask the STEER authors feed their network; ``reward`` is their shaped reward; ``env`` steps E
football games in one process with the ``VecEnv`` face of ``rl_bridge.vec_env``. gfootball is an
optional extra (``pip install -e '.[football]'`` after its build steps, see ``scripts/install_football.sh``):
nothing here imports it until an environment is created.
"""

from rl_bridge.football.scenarios import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "Scenario"]
