"""The LLM runtime: settings, the one gateway to models (structured output, retries), the token budget,
metering, the memory store, the local model, logs. It knows no graph, no task rule and no app: the
coordinator graphs are built on it and the app (``llamac.app``) runs them."""
