"""The app: the command line (``python -m llamac.run``), run configurations and folders, building tasks and
coordinators, running episodes, progress, sweeps and reports. It is the one room that knows every
coordinator: it imports the graphs, and ``rl_bridge`` (torch) only when an RL coordinator is asked for."""
