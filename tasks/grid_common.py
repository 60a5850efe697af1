"""What Grid Transportation Easy and Hard share: the state value, instances, stepping, plans, metrics.

Both variants keep the authors' state layout: an ordered mapping from place keys (``"0_1"`` cells in
Easy; ``"0.5_1.5"`` centres then ``"1.0_2.0"`` corners in Hard) to the list of items there, in the
order the authors' code leaves them (moved boxes are appended, removals take the first occurrence).
Keeping that order lets the conformance tests compare our next states with the golden ones exactly.

The variant modules supply the rules (``_read``/``_apply`` for one assignment, the doable lists,
the rule gate, the RL view); this base turns them into ``step`` with the success rule of ``run_exp``
(all lists empty *before* the last allowed step), and into ``parse_plan`` for LLM answers.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from tasks.base import AgentId, JointAction, Outcome, Plan, PlanError, PlanErrorKind, TaskError
from tasks.plans import extract_json_object, parse_agent_coords, parse_grid_move

COLOURS: tuple[str, ...] = ("blue", "red", "green", "purple", "orange")
NOTATIONS = ("authors", "compact", "squares")
"""How prompts may write a grid (``GridTask.with_notation``; the LLM coordinators' ``notation`` knob)."""
DATA_DIR = Path(__file__).parent / "data" / "grid"
REPLAN_SUFFIX = "Please replan again with the same ouput format. Your only final plan:"
"""The authors' closing sentence of a syntax-check re-prompt (their spelling)."""

_OFFICIAL_MOVE = re.compile(r"move\((.*?),\s(.*?)\)")
_IDLE_WORDS = {"", "none", "null", "stay", "wait", "idle", "noop", "no-op", "no action", "nothing", "pass"}


def step_limit_for(rows: int, cols: int) -> int:
    """30 steps, 40 from 4x8 (32 cells) up: the limits of the authors' main blocks."""
    return 40 if rows * cols >= 32 else 30


def split_official(value: Any) -> tuple[str, str] | None:
    """The authors' split of an action string: ``move\\((.*?),\\s(.*?)\\)`` matched at the start.

    ``step`` reads assignments with this exact grammar (a missing space after the comma makes the
    lazy match cut inside the brackets, so the entry is rejected as in the original); LLM answers
    go through ``parse_plan`` first, which rewrites tolerant spellings into this canonical form.
    """
    if not isinstance(value, str):
        return None
    m = _OFFICIAL_MOVE.match(value)
    return (m.group(1), m.group(2)) if m else None


def skip_text(label: str) -> str:
    """The authors' feedback for one skipped assignment."""
    return f"Your assigned task for {label} is not in the doable action list; "


def syntax_feedback_text(errors: Sequence[PlanError]) -> str:
    """The authors' re-prompt after a failed syntax check: every error's text, then the suffix."""
    return "".join(e.detail for e in errors) + REPLAN_SUFFIX if errors else ""


Distance = Callable[[int, int], float]
"""Steps between a box's place and a target's place (squares in Easy, corner to cell in Hard)."""


def pairing(boxes: list[Any], targets: list[Any], dist: Distance) -> list[Any]:
    """For each box, its target: minimise the longest distance, then the total (exact up to 6 of a colour;
    the golden grids hold at most 3), else each box's nearest target."""
    if not targets:
        return [None] * len(boxes)
    if len(boxes) <= 6 and len(targets) <= 6 and len(boxes) <= len(targets):
        best = min(itertools.permutations(targets, len(boxes)),
                   key=lambda p: (max(dist(b, t) for b, t in zip(boxes, p, strict=True)),
                                  sum(dist(b, t) for b, t in zip(boxes, p, strict=True))))
        return list(best)
    return [min(targets, key=partial(dist, b)) for b in boxes]


def box_target_pairs(task: GridTask, state: GridState, box_places: Sequence[int], target_places: Sequence[int],
                     dist: Distance) -> list[tuple[int, str, int | None]]:
    """(box place, colour, target place) for every box, paired per colour (``pairing``): the box-target
    assignment the greedy planner follows and the ``paired`` rule gate judges moves by."""
    out = []
    colours = dict.fromkeys(it[4:] for k in box_places for it in state.places[k] if it.startswith("box_"))
    for colour in colours:
        boxes = [k for k in box_places for it in state.places[k] if it == f"box_{colour}"]
        targets = [k for k in target_places for it in state.places[k] if it == f"target_{colour}"]
        for b, t in zip(boxes, pairing(boxes, targets, dist), strict=True):
            out.append((b, colour, t))
    return out


@dataclass(frozen=True)
class GridState:
    """Contents of every place (authors' key order) and the step index ``t`` (0-based)."""

    places: tuple[tuple[str, ...], ...]
    t: int = 0

    def items(self) -> int:
        return sum(len(p) for p in self.places)

    def boxes(self) -> int:
        return sum(1 for p in self.places for it in p if it.startswith("box_"))

    def targets(self) -> int:
        return sum(1 for p in self.places for it in p if it.startswith("target_"))


@dataclass(frozen=True)
class Transition:
    """The raw result of applying a joint action, before ``run_exp`` decides what to commit."""

    places: tuple[tuple[str, ...], ...]
    feedback: tuple[str, ...]
    collision: str | None = None
    matched: int = 0


class GridTask:
    """Instance loading, ``step`` and the plan parser shared by ``GridEasy`` and ``GridHard``."""

    family = "grid"
    difficulty = "easy"
    no_op_words = frozenset(_IDLE_WORDS)
    notation = "authors"
    """How the prompts write this grid (``with_notation``): ``authors``, the listing of every square then
    every agent's doable action strings; ``compact`` (Easy grids), one line per square with its targets and
    its agent's boxes, each box once with its numbered moves; ``squares``, the compact notation with each
    agent named by its square (``[0,1]``), in the view and in the plans' keys."""
    notations: tuple[str, ...] = ("authors",)
    """The notations this variant writes; another asked for falls back to ``authors``."""

    def __init__(self, rows: int, cols: int, places: Mapping[str, Sequence[str]], name: str = "",
                 step_limit: int | None = None) -> None:
        if not (isinstance(rows, int) and isinstance(cols, int)) or rows < 1 or cols < 1:
            raise TaskError(f"grid size must be at least 1x1, got {rows}x{cols}")
        self.rows, self.cols = rows, cols
        self.keys: tuple[str, ...] = self._keys()
        self._index = {k: n for n, k in enumerate(self.keys)}
        if set(places) != set(self.keys):
            missing = sorted(set(self.keys) - set(places))[:3]
            extra = sorted(set(places) - set(self.keys))[:3]
            raise TaskError(f"state does not fit a {rows}x{cols} {self.difficulty} grid "
                            f"(missing {missing}, unexpected {extra})")
        for key, items in places.items():
            for item in items:
                if not re.fullmatch(r"(box|target)_(" + "|".join(COLOURS) + ")", str(item)):
                    raise TaskError(f"unknown item {item!r} at {key}")
        self.name = name or f"{self.family}_{rows}x{cols}"
        self.step_limit = step_limit if step_limit is not None else step_limit_for(rows, cols)
        if self.step_limit < 1:
            raise TaskError(f"step limit must be positive, got {self.step_limit}")
        self.agents: tuple[AgentId, ...] = self._agent_names()
        self._agent_index = {a: n for n, a in enumerate(self.agents)}
        self._initial = GridState(tuple(tuple(places[k]) for k in self.keys), 0)
        self._setup_arrays()

    @property
    def compact(self) -> bool:
        """Written in a compact notation (``compact`` or ``squares``): numbered moves, the state once."""
        return self.notation != "authors"

    def with_notation(self, notation: str) -> GridTask:
        """The same instance written in ``notation`` for the prompts (dynamics, checks and RL arrays are
        untouched); a variant without that notation keeps the authors'."""
        if notation not in NOTATIONS:
            raise TaskError(f"unknown notation {notation!r}; choose {', '.join(NOTATIONS)}")
        if notation == self.notation or notation not in self.notations:
            return self
        out = copy.copy(self)
        out.notation = notation
        return out

    # ------------------------------------------------------------------ to be supplied by variants
    def _keys(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _agent_names(self) -> tuple[AgentId, ...]:
        raise NotImplementedError

    def _setup_arrays(self) -> None:
        raise NotImplementedError

    @staticmethod
    def generate(rows: int, cols: int, rng: random.Random) -> dict[str, list[str]]:
        raise NotImplementedError

    def agent_at(self, coords: tuple[float, float]) -> AgentId | None:
        raise NotImplementedError

    def transition(self, state: GridState, joint: JointAction) -> Transition:
        raise NotImplementedError

    def place_action(self, item: str, place: tuple[float, ...]) -> str:
        """The canonical move of ``item`` to the place with whole coordinates ``place``."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------- constructors
    @classmethod
    def from_state_dict(cls, rows: int, cols: int, d: Mapping[str, Sequence[str]], name: str = "",
                        step_limit: int | None = None):
        """A task from the authors' JSON state format (``{"0_0": ["box_red", ...], ...}``)."""
        return cls(rows, cols, d, name=name, step_limit=step_limit)

    @classmethod
    def from_seed(cls, rows: int, cols: int, seed: int):
        """A fresh instance from the authors' generator driven by ``random.Random(seed)``."""
        if rows < 1 or cols < 1:
            raise TaskError(f"grid size must be at least 1x1, got {rows}x{cols}")
        places = cls.generate(rows, cols, random.Random(seed))
        return cls(rows, cols, places, name=f"{cls.difficulty}_{rows}x{cols}_seed{seed}")

    @classmethod
    def from_instance(cls, rows: int, cols: int, k: int):
        """Golden instance ``k`` (0..9) of the shipped sizes, as stored in ``tasks/data/grid``."""
        stem = f"{cls.difficulty}_{rows}x{cols}_{k}"
        path = DATA_DIR / f"{stem}.json"
        if not path.is_file():
            raise TaskError(f"no golden instance {stem} (shipped: sizes 2x2, 2x4, 4x8, k = 0..9)")
        limit = None
        index = DATA_DIR / "index.json"
        if index.is_file():
            for entry in json.loads(index.read_text())["instances"]:
                if entry["file"] == path.name:
                    limit = int(entry["query_time_limit"])
        return cls(rows, cols, json.loads(path.read_text()), name=stem, step_limit=limit)

    # -------------------------------------------------------------------------------- state
    def initial_state(self) -> GridState:
        return self._initial

    def state_from_dict(self, d: Mapping[str, Sequence[str]], t: int = 0) -> GridState:
        if set(d) != set(self.keys):
            raise TaskError("state keys do not fit this grid")
        return GridState(tuple(tuple(d[k]) for k in self.keys), t)

    def state_dict(self, state: GridState) -> dict[str, list[str]]:
        """The authors' JSON form of a state (key order preserved)."""
        return {k: list(p) for k, p in zip(self.keys, state.places, strict=True)}

    # -------------------------------------------------------------------------------- dynamics
    def step(self, state: GridState, joint: JointAction) -> Outcome:
        """Apply ``joint`` in insertion order; the success and step-limit rules of ``run_exp``.

        A collision (Hard) ends the episode and the colliding board is *not* committed: the
        returned state keeps the step-start board, with ``t`` advanced (the step was spent).
        """
        tr = self.transition(state, joint)
        t_next = state.t + 1
        info: dict[str, float] = {"matched": float(tr.matched), "skipped": float(len(tr.feedback))}
        if tr.collision is not None:
            info["boxes_left"] = float(state.boxes())
            rewards = {a: -1.0 for a in self.agents}
            return Outcome(replace(state, t=t_next), rewards, True, False, "collision",
                           (*tr.feedback, tr.collision), info)
        nxt = GridState(tr.places, t_next)
        info["boxes_left"] = float(nxt.boxes())
        shaped = tr.matched + 0.1 * (self.potential(state) - self.potential(nxt))
        rewards = {a: float(shaped) for a in self.agents}
        if nxt.items() == 0:
            won = state.t < self.step_limit - 1
            return Outcome(nxt, rewards, True, won, None if won else "step_limit", tr.feedback, info)
        if t_next >= self.step_limit:
            return Outcome(nxt, rewards, True, False, "step_limit", tr.feedback, info)
        return Outcome(nxt, rewards, False, False, None, tr.feedback, info)

    def potential(self, state: GridState) -> float:
        """Sum over boxes of the distance to the nearest same-colour target (for shaped reward)."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------------- plans
    def parse_plan(self, text: str) -> Plan | PlanError:
        """A plan from an LLM answer, rewritten to canonical action strings, or the first error.

        Agents may be written ``Agent[1, 2]``, ``Agent[1,2]`` or ``agent_1_2``; an explicit idle
        value (``null``, ``"stay"``, ``"wait"``, ...) leaves the agent out of the plan.
        """
        obj = extract_json_object(text)
        if isinstance(obj, PlanError):
            return obj
        if len(obj) == 1 and isinstance(next(iter(obj.values())), dict):
            obj = next(iter(obj.values()))  # {"plan": {...}}
        out: list[tuple[AgentId, str]] = []
        seen: set[AgentId] = set()
        for key, value in obj.items():
            coords = parse_agent_coords(key)
            agent = self.agent_at(coords) if coords else None
            if agent is None:
                return PlanError(PlanErrorKind.UNKNOWN_AGENT,
                                 f"{key} is not an agent of this {self.rows}x{self.cols} grid "
                                 f"(agents are {self.agents[0]} .. {self.agents[-1]})", str(key))
            if agent in seen:
                return PlanError(PlanErrorKind.CONFLICT, "two lines for the same agent", agent)
            seen.add(agent)
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if value is None or (isinstance(value, str) and value.strip().strip("'\"").lower()
                                 in self.no_op_words):
                continue
            action = self.canonical_action(agent, value)
            if action is None:
                return PlanError(PlanErrorKind.MALFORMED_ACTION,
                                 f"cannot read action {value!r}; write {self.action_format}", agent)
            out.append((agent, action))
        return Plan(tuple(out))

    action_format = "move(box_<colour>, ...)"

    def canonical_action(self, agent: AgentId, value: Any) -> str | None:
        """A tolerantly written box move in the variant's canonical spelling, or None if unreadable.

        Squares (Easy) and corners (Hard) have whole coordinates; the place word is not checked, so
        ``square[0.0, 1.0]`` reads as a Hard corner.
        """
        move = parse_grid_move(value)
        if move is None or not move.item.startswith("box_"):
            return None
        if move.target is not None:
            return f"move({move.item}, {move.target})"
        if move.place is None or not all(float(x).is_integer() for x in move.place):
            return None
        return self.place_action(move.item, move.place)

    def plan_json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": (f"One entry per agent that acts this step: key the agent name "
                            f"(e.g. {self.agents[0]}), value one action string, {self.action_format}. "
                            "Leave idle agents out."),
            "additionalProperties": {"type": "string"},
        }

    # -------------------------------------------------------------------------------- metrics
    def episode_metrics(self, states: Sequence[Any], outcomes: Sequence[Outcome]) -> dict[str, float]:
        start = states[0] if states else self._initial
        end = outcomes[-1].state if outcomes else (states[-1] if states else self._initial)
        return {
            "boxes_initial": float(start.boxes()),
            "boxes_left": float(end.boxes()),
            "boxes_matched": float(start.boxes() - end.boxes()),
            "skipped_assignments": float(sum(len(o.feedback) for o in outcomes
                                             if o.failure != "collision")),
            "collisions": float(sum(1 for o in outcomes if o.failure == "collision")),
        }

    # ---------------------------------------------------------------------------------- views
    def _listing(self, state: GridState, keys: Sequence[str] | None = None) -> str:
        parts = []
        for k, p in zip(self.keys, state.places, strict=True):
            if p and (keys is None or k in keys):
                parts.append(f"{self.place_name(k)}: {', '.join(p)}")
        return "; ".join(parts) if parts else "(empty)"

    def place_name(self, key: str) -> str:
        raise NotImplementedError

    def planner_view(self, state: GridState, numbered: bool = False) -> str:
        """The state once, then every agent that can act with its doable actions (one line each).

        ``numbered`` (for plans that name numbers) writes each box once and its destinations after it,
        each with the action's number in the agent's doable list: ``box_red -> 1 square[0, 1] | 2
        target_red``, a third shorter than the action strings and nothing for a plan to copy wrongly."""
        if not numbered:
            lines = [self.state_text(state), "Doable actions (agents not listed can do nothing):"]
            lines += [f"{agent}: {' | '.join(acts)}" for agent, acts in self.doable(state).items() if acts]
            return "\n".join(lines)
        lines = [self.state_text(state),
                 "Doable actions by number (a plan names each agent's action by its number; agents not listed "
                 "can do nothing):"]
        for agent, acts in self.doable(state).items():
            if acts:
                lines.append(f"{agent}: {numbered_moves(acts)}")
        return "\n".join(lines)

    def doable(self, state: GridState) -> dict[AgentId, list[str]]:
        raise NotImplementedError

    def state_text(self, state: GridState) -> str:
        raise NotImplementedError


def numbered_moves(actions: Sequence[str]) -> str:
    """``move(ITEM, DEST)`` actions as ``ITEM -> 1 DEST | 2 DEST; ITEM2 -> 3 DEST``, numbered from 1 in
    their order (consecutive actions on the same item share its name)."""
    groups: list[tuple[str, list[str]]] = []
    for number, action in enumerate(actions, start=1):
        item, _, dest = action.removeprefix("move(").removesuffix(")").partition(", ")
        if groups and groups[-1][0] == item:
            groups[-1][1].append(f"{number} {dest}")
        else:
            groups.append((item, [f"{number} {dest}"]))
    return "; ".join(f"{item} -> {' | '.join(dests)}" for item, dests in groups)
