"""The non-LLM baselines, one per task family (``--coordinator greedy``): the grid's shortest-path planner,
the allocation hill climber and the matrix games' oracle. They are coordinators, not tasks: they play the
tasks through the same ``Coordinator`` interface as LLaMAC and the trained policies."""
