"""LangGraph state machines: the episode loop, LLaMAC and HMAS-2."""
