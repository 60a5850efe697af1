"""What a coordinator graph runs with: its config (fixed when the graph is built) and, per step, the task
and the gateway (LangGraph's runtime context, so the compiled graph itself needs no live model).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args, get_origin, get_type_hints

from llamac.runtime.contract import Gateway
from tasks.base import GateGoal, Task

OBJECTION_ROUNDS_BY_FAMILY = {"grid_easy": 1, "grid_hard": 3, "alloc": 1}
"""The papers' plan-confirmation rounds per step: 1 on Easy, up to 3 on Hard; allocation like Easy."""


@dataclass(frozen=True)
class CoordinatorConfig:
    """Knobs shared by LLaMAC and HMAS-2, so both run under the same limits."""

    actor_context: Literal["shared", "local"] = field(default="shared", metadata={"knob": True, "llamac": True, "help": (
        "LLaMAC actors see the step's shared prefix (prefix-cache friendly) or only the rules and their own "
        "view (fewer billed tokens)")})
    """LLaMAC actors' context. ``shared`` (default): the step's whole shared prefix (rules, memory, state)
    first, so a prefix cache serves it; ``local``: the rules plus the actor's own view only (the paper's
    decentralised actor), about half the prompt of a shared actor call on Easy 2x2 at step 0, less once
    memory fills its window. HMAS-2 agents always get the shared prefix: they see every agent's state
    and the history by design."""

    actor_gate: Literal["ask", "direct", "apply"] = field(default="ask", metadata={"knob": True, "llamac": True, "help": (
        "LLaMAC actors whose rule gate knows a better action: ask the LLM all the same (ask, the paper's actor), "
        "object with that action without a call (direct), or take it without a call when the patched plan passes "
        "the check, skipping the assessor's revision (apply)")})
    """LLaMAC actors whose rule gate doubts their line and knows a better action (``Suspicious.fix``):
    ``ask`` (default, the paper's actor) asks the LLM all the same; ``direct`` objects with the fix
    without an LLM call, and the assessor revises; ``apply`` takes the fix itself: when every objection
    of a round is such a fix and the patched plan passes the task's check, it is the step's plan with no
    revision call (otherwise the round goes to the assessor as with ``direct``). HMAS-2 agents are
    always asked."""

    gate_goal: GateGoal = field(default="nearest", metadata={"knob": True, "llamac": True, "help": (
        "what LLaMAC actors' rule gate measures a plan against: on Easy grids any target of the box's colour "
        "(nearest, the paper's) or the target the box is paired with, as the greedy planner pairs them (paired); "
        "on Hard grids the authors' direct feedback (nearest) or, for a box the agent cannot bring closer, its own "
        "useful move as the fix, else withdrawing the line (paired); on allocation the last move only (nearest) or "
        "the total the hill climber would try next, with each agent's share of it as the fix (paired)")})
    """Ours (``GridEasy.goal_cells``). With ``nearest`` two boxes of one colour may both head for the same
    target and the second then crosses the grid (Easy 4x8 #0: 14 steps against the planner's 8); ``paired``
    judges each box's move against its own target of a min-max box-target assignment, and volunteers move the
    box with the longest way left first. Hard grids' gate always measures against the nearest target; there
    ``paired`` (``GridHard.rule_gate``) turns the direct feedback for a box the agent cannot bring closer
    into a fix: the agent's own useful move, else ``WITHDRAW``. Allocation (``ResourceAllocation.rule_gate``):
    ``paired`` measures the plan's total against the hill climber's next probe on the same history."""

    idle_actors: Literal["wait", "volunteer"] = field(default="wait", metadata={"knob": True, "llamac": True, "help": (
        "LLaMAC actors the plan leaves idle: wait (the paper's: only the plan's agents confirm) or volunteer "
        "the move their rule gate finds for a box in their own square (a rule-written line, counted in gate_fixes)")})
    """Ours. ``volunteer``: in the first confirmation round, every agent the plan leaves idle whose task knows
    a useful move for it (``Task.idle_move``) objects with that move, like a rule gate's fix; under
    ``actor_gate="apply"`` it is added to the plan without a call. The small local model names a few agents
    per step on a 4x8 grid; the rest then wait although their boxes could move."""

    answer_format: Literal["actions", "numbers"] = field(default="actions", metadata={"knob": True, "help": (
        "how a plan names actions: copied action strings (actions, the paper's) or each agent's action by its "
        "number in the doable list (numbers: about a third of the output tokens on the grids)")})
    """Ours (``graphs/plan_answers.py``): with ``numbers`` the grids' doable lists are numbered and plans
    name the numbers; they are turned back into action strings before the syntax check."""

    notation: Literal["authors", "compact", "squares"] = field(default="authors", metadata={"knob": True, "help": (
        "how prompts write an Easy grid: the authors' listing of every square, then every agent's doable action "
        "strings (authors), or one line per square with its targets and its agent's boxes, each box once with "
        "its numbered moves (compact: plans then name numbers, as with --answer-format numbers; squares: the same "
        "with each agent named by its square, [0,1], also in the plans' keys; Hard grids and allocation keep "
        "their own text)")})
    """Ours (``GridEasy.with_notation``): the state is written once instead of twice (listing, then doable
    lists), squares as ``[i,j]``, memory's past states and plans in the same notation. The task's dynamics,
    checks, feedback and results are the same in both. Applied to the task when the run builds it
    (``llamac.app.build.build_task``)."""

    objection_rounds: int | None = field(default=None, metadata={"knob": True, "key": "rounds", "default_help": (
        "3 on Hard grids, else 1"), "help": "plan-confirmation rounds per step"})
    """Actor confirmation rounds per step; ``None`` derives it from ``task.family`` (1 Easy, 3 Hard)."""

    syntax_repair: Literal["replan", "drop"] = field(default="replan", metadata={"knob": True, "help": (
        "a plan the syntax check refuses: re-prompt the planner with the errors (replan, the paper's) or keep the "
        "largest prefix-greedy subset of its lines that passes the check and drop the rest without a call (drop)")})
    """Ours. ``drop``: when the answer is a plan but some lines fail the check (not doable, a conflict, a Hard
    collision), its lines are taken in the order written and each is kept only if the lines kept so far plus it
    still pass (``dropped_lines`` counts the rest); an answer that is no plan at all is still re-prompted. On
    Hard 4x8 the 0.5B model's assessor re-planned step 0 six times with growing prompts (over the 4,096-token
    window) and the episode ended ``syntactic_error``."""

    syntax_replans: int = 6
    """Re-prompts after a refused plan before the episode ends with ``syntactic_error`` (the authors' 6)."""

    memory_window_tokens: int = 300
    """Long-term memory: newest past steps are kept while their estimated tokens fit this window.
    Small on purpose: every call of the step repeats it, and the target is a third of the paper's tokens."""

    memory_steps: int | None = field(default=None, metadata={"knob": True, "default_help": (
        "the newest steps that fit 300 tokens: 2 on Easy 2x2, 1 on 4x8"), "help": (
        "past steps every prompt shows (the memory window in steps); 0 shows none")})
    """The memory window in steps; ``None`` keeps the token window (``memory_window_tokens``)."""

    def numbers_for(self, task: Task) -> bool:
        """Plans of this task are answered with numbers (the knob, or a task written in the compact notation,
        whose moves are numbered; on a task whose plans are action strings)."""
        from graphs.plan_answers import numbered

        return (self.answer_format == "numbers" or getattr(task, "compact", False)) and numbered(task)

    def rounds_for(self, task: Task) -> int:
        if self.objection_rounds is not None:
            return self.objection_rounds
        return OBJECTION_ROUNDS_BY_FAMILY.get(task.family, 1)


@dataclass(frozen=True)
class LLaMACConfig(CoordinatorConfig):
    critics: Literal["split", "merged"] = field(default="split", metadata={"knob": True, "llamac": True, "help": (
        "LLaMAC: two concurrent critic calls (split) or the authors' single two-plan call (merged)")})
    """``split``: exploration and exploitation critics as two concurrent calls (the paper's description);
    ``merged``: the authors' single call asking for both plans."""

    assessor: Literal["always", "on-disagreement"] = field(default="always", metadata={"knob": True, "llamac": True, "help": (
        "LLaMAC: ask the assessor every step (always, the paper's) or only when the two critics propose different "
        "plans (on-disagreement)")})
    """``always`` (default, the paper's TripletCritic): the assessor is asked every step;
    ``on-disagreement``: when both critics propose the same plan it is taken without the assessor's call
    (the syntax check and the actors still check it)."""


@dataclass(frozen=True)
class HMAS2Config(CoordinatorConfig):
    """HMAS-2 has no critics; it shares every other limit with LLaMAC."""


@dataclass(frozen=True)
class Knob:
    """A knob of the LLM coordinators as the CLI, config.json, sweep specs and benchmarks name it, derived
    from the config field that declares it (``metadata={"knob": True, ...}``)."""

    field: str
    """The field of ``LLaMACConfig`` / ``HMAS2Config``."""
    key: str
    """Its name outside: ``--key`` (dashes for underscores), config.json's ``coordinator.key``, a spec's key."""
    choices: tuple[str, ...] | None
    default: Any
    help: str
    llamac_only: bool
    default_help: str = ""
    """The default in words, when it is not one value."""


def _knobs() -> tuple[Knob, ...]:
    hints = get_type_hints(LLaMACConfig)
    out = []
    for f in fields(LLaMACConfig):
        if f.metadata.get("knob"):
            kind = hints[f.name]
            choices = tuple(get_args(kind)) if get_origin(kind) is Literal else None
            out.append(Knob(f.name, f.metadata.get("key", f.name), choices, f.default, f.metadata["help"],
                            bool(f.metadata.get("llamac")), f.metadata.get("default_help", "")))
    return tuple(out)


KNOBS: tuple[Knob, ...] = _knobs()
"""Every knob, in declaration order."""

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {"critics": "merged", "actor_context": "local", "actor_gate": "ask", "assessor": "always",
              "answer_format": "numbers", "notation": "squares", "memory_steps": 1},
    "lean": {"critics": "merged", "actor_context": "shared", "actor_gate": "apply", "assessor": "on-disagreement",
             "answer_format": "numbers", "idle_actors": "volunteer", "gate_goal": "paired", "syntax_repair": "drop"},
}
"""LLaMAC presets (knob key -> value). ``paper`` is the authors' LLaMAC as their code runs it: one critic call
for both plans (their TripletCritic's merged prompt), the assessor every step, an actor asked whenever its rule
gate doubts its line and shown its own view; written in the compact notation with each agent named by its
square (``squares``), plans answered by number, and the last step as memory: the same question in fewer tokens,
half the output tokens per plan of the authors' wording (results/llm_benchmarks.md; ``--notation compact`` keeps
the agents' names: -39 %/-47 % per plan, and Qwen 1.5B needed 16-27 % fewer steps with it). The authors' wording
is one flag each away (``--notation authors --answer-format actions``; ``--critics split --actor-context shared`` for the paper's
description of two concurrent critics over the shared prefix), which the recorded cassettes of
``LLaMACConfig()`` keep. ``lean`` is ours: one merged critic call, the assessor only when the
critics disagree, actors that take their rule gate's fix (most executed lines are then the rules'), idle
actors that volunteer their gate's move, a gate that measures each box's move against its paired target (on
allocation: the plan's total against the hill climber's next probe; on Hard grids a line whose box another
agent must move becomes the agent's own useful move, else is withdrawn), and plans answered with action numbers (on Easy 2x4 #1: 74 instead of 131 output tokens per critic-pair call,
results/llm_benchmarks.md)."""


DEFAULT_PRESET = "lean"
"""What the app runs when no preset is named (the CLI, sweep specs): the configuration that solves the
grids with the small local model in minutes. The paper's is one flag away (``--preset paper``); the
coordinator's own defaults (``LLaMACConfig()``) stay the paper's."""


def resolve_knobs(kind: str, preset: str | None, given: dict[str, Any]) -> dict[str, Any]:
    """Knob key -> value for a coordinator: the preset's (``DEFAULT_PRESET`` when none is named; LLaMAC
    only), then every knob given explicitly (not None) on top, then the declared defaults."""
    values = {k.key: k.default for k in KNOBS if kind == "llamac" or not k.llamac_only}
    if kind == "llamac":
        values.update(PRESETS[preset or DEFAULT_PRESET])
    values.update({key: value for key, value in given.items() if value is not None and key in values})
    return values


def coordinator_config(kind: str, knobs: dict[str, Any]) -> CoordinatorConfig:
    """``LLaMACConfig`` or ``HMAS2Config`` from knob keys (as ``resolve_knobs`` gives them)."""
    by_key = {k.key: k.field for k in KNOBS}
    values = {by_key[key]: value for key, value in knobs.items() if key in by_key}
    if kind == "llamac":
        return LLaMACConfig(**values)
    return HMAS2Config(**{k: v for k, v in values.items() if k in {f.name for f in fields(HMAS2Config)}})


@dataclass(frozen=True)
class CoordinatorContext:
    """LangGraph runtime context of one ``decide``: the same compiled graph serves any task."""

    task: Task
    gateway: Gateway
    config: CoordinatorConfig
