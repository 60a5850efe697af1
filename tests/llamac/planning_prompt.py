"""A 2x2 grid planning prompt (two agents, one sensible plan) shared by the local-model and cassette tests."""

from __future__ import annotations

from llamac.runtime.contract import ChatMessage

AGENTS = ("agent_1", "agent_2")
MOVES = ["up", "down", "left", "right", "stay"]
PLAN_SCHEMA = {
    "title": "plan",
    "type": "object",
    "properties": {a: {"type": "string", "enum": MOVES} for a in AGENTS},
    "required": list(AGENTS),
}
PLANNING_PROMPT = [
    ChatMessage(
        "system",
        "You coordinate two agents on a 2x2 grid. Cells are named (row, column); row 0 is the top row, "
        "column 0 the left column. Moves: up (row-1), down (row+1), left (column-1), right (column+1), stay.\n"
        "agent_1 is at (0,0) and must reach (1,0).\n"
        "agent_2 is at (1,1) and must reach (0,1).\n"
        "Two agents may not end in the same cell. Each agent makes exactly one move this step.",
    ),
    ChatMessage("user", 'Give the joint plan for this step as a JSON object like {"agent_1": "<move>", "agent_2": "<move>"}.'),
]
