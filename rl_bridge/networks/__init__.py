"""Policy and value networks: STEER (``steer``), MAT (``mat``), MLP actors/critics and students (``mlp``),
STEP's hypernetwork policy (``hyper``)."""
