"""llamac: LLM actor-critic coordination and its runtime (settings, providers, budget, memory)."""

__version__ = "0.1.0"
