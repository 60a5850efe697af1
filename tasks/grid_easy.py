"""Grid Transportation, Easy (the authors' env1 / HMAS BoxNet1 with integer coordinates).

Rules. An R x C grid, one agent per cell (``Agent[i, j]`` in ``square[i, j]``). Each colour has 1..3
boxes and as many same-colour targets, each in a random cell. An agent acts only on boxes in its own
cell, one action per step: ``move(box_red, square[i', j'])`` to a 4-neighbour, or
``move(box_red, target_red)`` when that target is in the same cell (both disappear). A joint action
is applied assignment by assignment in plan order against the board as changed by the earlier
assignments; an illegal one is skipped with the authors' feedback text. Success: every box matched
before the last allowed step (``t < limit - 1``); limit 30, or 40 from 32 cells (4x8) up.

Shaped reward (for RL training only; the metric is Success/Steps): every agent gets
``matched + 0.1 * (decrease of sum over boxes of the distance to the nearest same-colour target)``.

RL view. 26 actions per agent: 0 = no-op, then for colour k (blue, red, green, purple, orange) the
indices ``1 + 5k + d`` with d = 0 up (i-1), 1 down (i+1), 2 left (j-1), 3 right (j+1), 4 to-target.
Observation [102]: the 3x3 window of cells around the agent, per cell 5 box counts, 5 target counts
(each /3) and an outside-the-grid flag, then row/(R-1), col/(C-1), t/limit. Global state
[R*C*10 + 1]: box and target counts per colour per cell, then t/limit. Masked actions handed to
``actions_from_indices`` are dropped (no-op).

Deviations from the authors' code (golden/README.md "looks buggy"), each pinned by a test:
1. ``move(target_x, square[..])`` moved the target; here only boxes move (skipped with feedback).
2. Coordinates were read digit by digit (``Agent[0.5, 0.5]`` acted as ``Agent[0, 5]``; grids of 10+
   broke); here numbers are read whole, and a non-integer or off-grid agent/square is skipped with
   feedback (unknown agent in ``validate_plan``) instead of acting elsewhere or crashing (KeyError
   -> "Hallucination of wrong plan").
3. Entries that are not ``move(..)`` (e.g. ``"stay"``) were dropped silently; here they get the
   skip feedback (``malformed_action`` in ``validate_plan``).
4. The syntax check crashed (``sre_constants.error``) on bad keys or JSON; ``parse_plan`` and
   ``validate_plan`` return typed errors instead.
5. A box with a duplicate in its cell listed each action twice; ``doable`` lists each once.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tasks.base import (
    AgentId,
    Agree,
    ArrayView,
    GateGoal,
    GateVerdict,
    JointAction,
    Plan,
    PlanError,
    PlanErrorKind,
    Suspicious,
)
from tasks.grid_common import (
    COLOURS,
    GridState,
    GridTask,
    Transition,
    box_target_pairs,
    skip_text,
    split_official,
)
from tasks.plans import format_number, numbers, parse_agent_coords

DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1))  # up, down, left, right: the authors' order
_DIRECTION_WORDS = dict(zip(DIRECTIONS, ("up", "down", "left", "right"), strict=True))
_CH = 2 * len(COLOURS) + 1


@dataclass(frozen=True)
class _Entry:
    """One assignment read with the authors' grammar (numbers read whole)."""

    label: str
    cell: int | None
    item: str | None = None
    dest: int | str | None = None  # cell index, a target name, or None when the square is unreadable


class GridEasy(GridTask):
    family = "grid_easy"
    difficulty = "easy"
    action_format = "move(box_<colour>, square[i, j]) or move(box_<colour>, target_<colour>)"

    def _keys(self) -> tuple[str, ...]:
        return tuple(f"{i}_{j}" for i in range(self.rows) for j in range(self.cols))

    def _agent_names(self) -> tuple[AgentId, ...]:
        return tuple(f"Agent[{i}, {j}]" for i in range(self.rows) for j in range(self.cols))

    @staticmethod
    def generate(rows: int, cols: int, rng: random.Random) -> dict[str, list[str]]:
        """``env1_create.env_create(R, C, 1, 3, COLOURS)``: same draws, same call order."""
        places: dict[str, list[str]] = {f"{i}_{j}": [] for i in range(rows) for j in range(cols)}
        for colour in COLOURS:
            for _ in range(rng.randint(1, 3)):
                n_box = rng.randint(0, rows * cols - 1)
                n_target = rng.randint(0, rows * cols - 1)
                places[f"{n_box // cols}_{n_box % cols}"].append(f"box_{colour}")
                places[f"{n_target // cols}_{n_target % cols}"].append(f"target_{colour}")
        return places

    # ------------------------------------------------------------------------------ geometry
    def cell_of(self, coords: Sequence[float] | None) -> int | None:
        if coords is None or len(coords) != 2 or not all(float(c).is_integer() for c in coords):
            return None
        i, j = int(coords[0]), int(coords[1])
        return i * self.cols + j if 0 <= i < self.rows and 0 <= j < self.cols else None

    def ij(self, cell: int) -> tuple[int, int]:
        return divmod(cell, self.cols)

    def agent_at(self, coords: tuple[float, float]) -> AgentId | None:
        cell = self.cell_of(coords)
        return None if cell is None else self.agents[cell]

    def place_name(self, key: str) -> str:
        i, j = key.split("_")
        return f"square[{i}, {j}]"

    def neighbours(self, cell: int) -> list[int]:
        i, j = self.ij(cell)
        return [(i + di) * self.cols + j + dj for di, dj in DIRECTIONS
                if 0 <= i + di < self.rows and 0 <= j + dj < self.cols]

    def distance(self, a: int, b: int) -> int:
        (ai, aj), (bi, bj) = self.ij(a), self.ij(b)
        return abs(ai - bi) + abs(aj - bj)

    def target_cells(self, state: GridState, colour: str) -> list[int]:
        return [c for c, p in enumerate(state.places) if f"target_{colour}" in p]

    def potential(self, state: GridState) -> float:
        total = 0.0
        for c, p in enumerate(state.places):
            for it in p:
                if it.startswith("box_"):
                    cells = self.target_cells(state, it[4:])
                    total += min((self.distance(c, t) for t in cells), default=0)
        return total

    # ------------------------------------------------------------------------------ dynamics
    def _read(self, key: str, value: Any) -> _Entry:
        coords = parse_agent_coords(key)
        label = "_".join(format_number(x) for x in coords) if coords else str(key)
        cell = self.cell_of(coords)
        split = split_official(value)
        if split is None:
            return _Entry(label, cell)
        item, loc = split
        dest: int | str | None = loc
        if "square" in loc:
            dest = self.cell_of(numbers(loc))
        return _Entry(label, cell, item, dest)

    def _legal(self, places: Sequence[Sequence[str]], e: _Entry) -> bool:
        if e.cell is None or e.item is None or not e.item.startswith("box_") or e.item not in places[e.cell]:
            return False
        if isinstance(e.dest, int):
            return self.distance(e.cell, e.dest) == 1
        return isinstance(e.dest, str) and e.dest == f"target_{e.item[4:]}" and e.dest in places[e.cell]

    def transition(self, state: GridState, joint: JointAction) -> Transition:
        places = [list(p) for p in state.places]
        feedback: list[str] = []
        matched = 0
        for key, value in joint.items():
            e = self._read(key, value)
            if not self._legal(places, e):
                feedback.append(skip_text(e.label))
                continue
            assert e.cell is not None and e.item is not None
            places[e.cell].remove(e.item)
            if isinstance(e.dest, int):
                places[e.dest].append(e.item)
            else:
                places[e.cell].remove(str(e.dest))
                matched += 1
        return Transition(tuple(tuple(p) for p in places), tuple(feedback), None, matched)

    def _cell_actions(self, places: Sequence[Sequence[str]], cell: int, unique: bool) -> list[str]:
        out: list[str] = []
        boxes = [it for it in places[cell] if it.startswith("box_")]
        for box in dict.fromkeys(boxes) if unique else boxes:
            for n in self.neighbours(cell):
                i, j = self.ij(n)
                out.append(f"move({box}, square[{i}, {j}])")
            if f"target_{box[4:]}" in places[cell]:
                out.append(f"move({box}, target_{box[4:]})")
        return out

    def doable(self, state: GridState) -> dict[AgentId, list[str]]:
        return {a: self._cell_actions(state.places, c, True) for c, a in enumerate(self.agents)}

    def authors_doable_text(self, state: GridState) -> str:
        """``state_update_func`` verbatim (duplicates included), for reproducing their prompts."""
        lines = []
        for c, a in enumerate(self.agents):
            i, j = self.ij(c)
            acts = self._cell_actions(state.places, c, False)
            lines.append(f"{a}: I am in square[{i}, {j}], I can observe {list(state.places[c])}, I can do {acts}\n")
        return "".join(lines)

    # ------------------------------------------------------------------------------ LLM face
    def place_action(self, item: str, place: tuple[float, ...]) -> str:
        i, j = (int(x) for x in place)
        return f"move({item}, square[{i}, {j}])"

    def validate_plan(self, state: GridState, plan: Plan) -> tuple[PlanError, ...]:
        """The authors' syntax check: every line against the step-start board (not sequentially)."""
        errors: list[PlanError] = []
        seen: set[int] = set()
        for key, value in plan.assignments:
            e = self._read(key, value)
            if e.cell is None:
                errors.append(PlanError(PlanErrorKind.UNKNOWN_AGENT,
                                        f"{key} is not an agent of this grid; ", key))
            elif e.cell in seen:
                errors.append(PlanError(PlanErrorKind.CONFLICT, f"{key} has two assignments; ", key))
            elif e.item is None:
                errors.append(PlanError(PlanErrorKind.MALFORMED_ACTION,
                                        f"The task {value!r} for {e.label} is not a move(...) action; ", key))
            elif not self._legal(state.places, e):
                errors.append(PlanError(PlanErrorKind.NOT_DOABLE, skip_text(e.label), key))
            if e.cell is not None:
                seen.add(e.cell)
        return tuple(errors)

    def rule_gate(self, state: GridState, plan: Plan, agent: AgentId, goal: GateGoal = "nearest") -> GateVerdict:
        """Agree when the line matches a target or brings the box strictly closer to one; otherwise the
        doubt comes with the same box's better move as its fix (``actor_gate="direct"`` sends it,
        ``"apply"`` takes it). ``goal`` says which targets count: any of the box's colour (``nearest``,
        the paper's) or the one the box is paired with (``paired``, see ``goal_cells``)."""
        line = plan.as_dict().get(agent)
        if line is None:
            return Agree()
        e = self._read(agent, line)
        if not self._legal(state.places, e):
            return Suspicious(f"{line} is not in your doable action list")
        if isinstance(e.dest, str):
            return Agree()
        assert e.cell is not None and e.item is not None and isinstance(e.dest, int)
        targets = self.goal_cells(state, e.cell, e.item[4:], goal)
        before = min((self.distance(e.cell, t) for t in targets), default=0)
        after = min((self.distance(e.dest, t) for t in targets), default=0)
        if after < before:
            return Agree()
        which = "a" if goal == "nearest" else "its paired"
        return Suspicious(f"the plan does not bring {e.item} closer to {which} {e.item[4:]} target "
                          f"(distance {before} -> {after})", self._better_move(e.cell, e.item, targets, before))

    def goal_cells(self, state: GridState, cell: int, colour: str, goal: GateGoal = "nearest") -> list[int]:
        """The target squares a ``box_<colour>`` in ``cell`` may head for: every target of its colour
        (``nearest``), or the ones the greedy planner's box-target pairing gives the boxes of that colour in
        ``cell`` (``paired``: minimise the longest box-to-target distance, then the total), so two boxes
        never head for one target while another waits elsewhere."""
        if goal == "nearest":
            return self.target_cells(state, colour)
        cells = range(len(self.agents))
        return [t for b, c, t in box_target_pairs(self, state, cells, cells, self.distance)
                if b == cell and c == colour and t is not None]

    def idle_move(self, state: GridState, agent: AgentId, goal: GateGoal = "nearest") -> str | None:
        """The move an agent the plan left idle could make itself (LLaMAC's ``idle_actors="volunteer"``):
        a box of its square matched with a target there, else a box carried strictly closer to its goal
        (``goal_cells``); ``None`` when no box of its square can get closer. With ``paired`` goals the box
        with the longest way left goes first, as in the greedy planner."""
        cell = self._agent_index[agent]
        boxes = [it for it in state.places[cell] if it.startswith("box_")]
        moves = []
        for box in dict.fromkeys(boxes):
            targets = self.goal_cells(state, cell, box[4:], goal)
            if not targets:
                continue
            before = min(self.distance(cell, t) for t in targets)
            move = self._better_move(cell, box, targets, before)
            if move is not None:
                moves.append((-before if goal == "paired" else before, move))
        return min(moves)[1] if moves else None

    def _better_move(self, cell: int, box: str, targets: Sequence[int], before: int) -> str | None:
        """The same box's move that beats carrying it astray (``before``: its distance to the nearest of
        ``targets``): its match when a target of its colour is in its square, else the first neighbour
        move that brings it strictly closer to one."""
        if not targets:
            return None
        if before == 0:
            return f"move({box}, target_{box[4:]})"
        for n in self.neighbours(cell):
            if min(self.distance(n, t) for t in targets) < before:
                return self.place_action(box, self.ij(n))
        return None

    notations = ("authors", "compact", "squares")

    # compact notation: squares as [i,j], each box once with its numbered moves (plans answer numbers)
    def _cell(self, cell: int) -> str:
        i, j = self.ij(cell)
        return f"[{i},{j}]"

    def _dest_word(self, cell: int | None, action: str) -> str:
        """A move's destination in the compact notation: ``match``, or the direction from the agent's square
        ``cell`` (``up`` is row - 1; one token each, where ``[i,j]`` takes five); anything else as written."""
        dest = action.removeprefix("move(").removesuffix(")").partition(", ")[2]
        if dest.startswith("target_"):
            return "match"
        to = self.cell_of(numbers(dest)) if "square" in dest else None
        if cell is None or to is None:
            return dest or action
        (i, j), (k, m) = self.ij(cell), self.ij(to)
        return _DIRECTION_WORDS.get((k - i, m - j), self._cell(to))

    @staticmethod
    def _colours(items: Sequence[str], kind: str) -> dict[str, int]:
        """Colour -> count of the ``box_`` or ``target_`` items of a square, in their order."""
        counts: dict[str, int] = {}
        for it in items:
            if it.startswith(kind):
                counts[it[len(kind):]] = counts.get(it[len(kind):], 0) + 1
        return counts

    @staticmethod
    def _counted(colour: str, n: int) -> str:
        return colour if n == 1 else f"{colour} x{n}"

    def _compact_items(self, items: Sequence[str]) -> tuple[str, str]:
        """(targets, boxes) of a square as colour words, repeats counted (``green x2``)."""
        return tuple(" ".join(self._counted(c, n) for c, n in self._colours(items, kind).items())  # type: ignore[return-value]
                     for kind in ("target_", "box_"))

    def _compact_moves(self, state: GridState, cell: int) -> str:
        """The agent's boxes, each once, with its doable moves numbered as ``doable`` orders them."""
        groups: dict[str, list[str]] = {}
        for number, action in enumerate(self.doable(state)[self.agents[cell]], start=1):
            box = action.removeprefix("move(").partition(",")[0].removeprefix("box_")
            groups.setdefault(box, []).append(f"{number} {self._dest_word(cell, action)}")
        boxes = self._colours(state.places[cell], "box_")
        return ", ".join(f"{self._counted(box, boxes[box])} ({' '.join(moves)})" for box, moves in groups.items())

    def _compact_state(self, state: GridState) -> str:
        lines = []
        for cell, items in enumerate(state.places):
            targets, boxes = self._compact_items(items)
            if items:
                lines.append(f"{self._cell(cell)} " + ", ".join(
                    part for part in (targets and f"targets {targets}", boxes and f"boxes {boxes}") if part))
        return "; ".join(lines) or "(empty)"

    @property
    def plan_keys(self) -> str:
        """What a plan answer's keys name: ``agents`` (``Agent[0, 1]``), or ``squares`` (the ``squares``
        notation: each agent is named by its square, ``[0,1]``, in the view and in the plan)."""
        return "squares" if self.notation == "squares" else "agents"

    def agent_key(self, agent: AgentId) -> str:
        """The key a plan answer writes for ``agent`` (``plan_keys``)."""
        return self._cell(self._agent_index[agent]) if self.plan_keys == "squares" and agent in self._agent_index else agent

    def agent_of_key(self, key: str) -> str:
        """The agent a plan answer's key names (``agent_key`` the other way; anything else as it is)."""
        if self.plan_keys != "squares":
            return key
        cell = self.cell_of(numbers(key)) if re.fullmatch(r"\[\d+,\d+\]", key) else None
        return self.agents[cell] if cell is not None else key

    def move_text(self, agent: AgentId, action: str, state: GridState | None = None) -> str:
        """One line's move as a prompt writes it: the action string (authors), or ``box dest`` (compact), with
        ``state`` preceded by its number there (``2 red down``), as a plan answer names it."""
        if not self.compact:
            return action
        acts = self.doable(state).get(agent, []) if state is not None else []
        number = f"{acts.index(action) + 1} " if action in acts else ""
        box = action.removeprefix("move(").partition(",")[0].removeprefix("box_")
        return f"{number}{box} {self._dest_word(self._agent_index.get(agent), action)}"

    def plan_text(self, plan: Mapping[str, str], state: GridState | None = None) -> str:
        """A plan as a prompt shows it: JSON of action strings (authors) or ``{Agent[i, j]: box dest; ...}``
        (compact; ``[i,j]`` for the agent in the squares notation; with ``state``, each move's number too: the
        assessor weighing the critics' plans)."""
        if not self.compact:
            return json.dumps(dict(plan))
        return "{" + "; ".join(f"{self.agent_key(agent)}: {self.move_text(agent, action, state)}"
                               for agent, action in plan.items()) + "}"

    def rules_text(self) -> str:
        if self.compact:
            squares = self.plan_keys == "squares"
            who, key = ("one agent in each, named by it", "[i,j]") if squares else ("Agent[i, j] in [i,j]", "Agent[i, j]")
            return (f"Grid Transportation (easy): {self.rows}x{self.cols} squares [row,col], {who}. "
                    "Each step an agent may move one box in its square up (row-1), down (row+1), left (col-1) or "
                    "right (col+1), or match it with a target of its colour there (both vanish). Goal: match all "
                    f"boxes in the fewest steps (limit {self.step_limit}). A plan is JSON {{\"{key}\": move number}} "
                    "for the agents that act, applied in the order written.")
        return (f"Grid Transportation (easy): a {self.rows}x{self.cols} grid of squares, one agent per "
                "square (Agent[i, j] sits in square[i, j]). Each agent can act only on boxes in its own "
                "square, at most one action per step: move(box_<colour>, square[i, j]) to an up/down/left/"
                "right neighbour square, or move(box_<colour>, target_<colour>) when a target of the same "
                "colour is in its square (box and target both disappear). Goal: match every box with a "
                f"target of its colour in as few steps as possible (limit {self.step_limit} steps). "
                "A plan is a JSON object {\"Agent[i, j]\": \"move(...)\"}; include only agents that act; "
                "assignments are applied in the order written.")

    def state_text(self, state: GridState) -> str:
        if self.compact:
            return self._compact_state(state)
        return f"Step {state.t}/{self.step_limit}. {self._listing(state)}"

    def planner_view(self, state: GridState, numbered: bool = False) -> str:
        """Compact: one line per square that holds anything, its agent's boxes with numbered moves (plans
        answer with the numbers, whatever ``numbered`` says); authors': ``GridTask.planner_view``."""
        if not self.compact:
            return super().planner_view(state, numbered)
        squares = self.plan_keys == "squares"  # the line's square names its agent; else the agent is named
        whose = "Each square's agent's" if squares else "Each agent's"
        lines = [f"Step {state.t}/{self.step_limit}. Squares not listed are empty. {whose} boxes with their doable "
                 "moves, numbered (a plan names each agent's move by its number):"]
        for cell, items in enumerate(state.places):
            targets, _ = self._compact_items(items)
            parts = [f"targets {targets}"] if targets else []
            moves = self._compact_moves(state, cell)
            if moves:
                parts.append(f"boxes {moves}" if squares else f"{self.agents[cell]} boxes {moves}")
            if parts:
                lines.append(f"{self._cell(cell)} " + "; ".join(parts))
        return "\n".join(lines)

    def actor_view(self, state: GridState, agent: AgentId, plan: Plan) -> str:
        cell = self._agent_index[agent]
        key = self.keys[cell]
        colours = dict.fromkeys(it[4:] for it in state.places[cell] if it.startswith("box_"))
        line = plan.as_dict().get(agent)
        if self.compact:
            goals = []
            for colour in colours:
                cells = self.target_cells(state, colour)
                goals.append(f"{colour} {'here' if cell in cells else ' '.join(self._cell(t) for t in cells) or 'nowhere'}")
            return "\n".join([
                f"Your square {self._cell(cell)}; targets here: {self._compact_items(state.places[cell])[0] or 'none'}.",
                f"Your boxes and moves: {self._compact_moves(state, cell) or 'none'}.",
                f"Targets of your boxes: {', '.join(goals) if goals else 'no boxes here'}.",
                f"The plan's line for you: {self.move_text(agent, line, state) if line is not None else 'no action'}.",
            ])
        where = []
        for colour in colours:
            cells = [self.place_name(self.keys[t]) for t in self.target_cells(state, colour)]
            where.append(f"target_{colour} in {', '.join(cells) or 'nowhere'}")
        acts = self.doable(state)[agent]
        return "\n".join([
            f"You are {agent} in {self.place_name(key)}; it holds: {', '.join(state.places[cell]) or 'nothing'}.",
            f"Your doable actions: {' | '.join(acts) if acts else 'none'}.",
            f"Targets of your boxes: {'; '.join(where) if where else 'no boxes here'}.",
            f"The plan's line for you: {line if line is not None else 'no action'}.",
        ])

    # ------------------------------------------------------------------------------- RL face
    def _setup_arrays(self) -> None:
        self.n_actions = 1 + 5 * len(COLOURS)
        self.obs_dim = 9 * _CH + 3
        self.state_dim = self.rows * self.cols * 2 * len(COLOURS) + 1

    def _counts(self, state: GridState) -> np.ndarray:
        grid = np.zeros((self.rows, self.cols, 2 * len(COLOURS)), dtype=np.float32)
        for c, p in enumerate(state.places):
            i, j = self.ij(c)
            for it in p:
                kind, colour = it.split("_", 1)
                grid[i, j, COLOURS.index(colour) + (0 if kind == "box" else len(COLOURS))] += 1
        return grid

    def _mask(self, grid: np.ndarray) -> np.ndarray:
        """Per agent: no-op, then per colour held the in-grid pushes and a match with a target here."""
        mask = np.zeros((len(self.agents), self.n_actions), dtype=bool)
        mask[:, 0] = True
        for c in range(len(self.agents)):
            i, j = self.ij(c)
            for ci in range(len(COLOURS)):
                if grid[i, j, ci] > 0:
                    for d, (di, dj) in enumerate(DIRECTIONS):
                        mask[c, 1 + 5 * ci + d] = 0 <= i + di < self.rows and 0 <= j + dj < self.cols
                    mask[c, 1 + 5 * ci + 4] = grid[i, j, len(COLOURS) + ci] > 0
        return mask

    def arrays(self, state: GridState) -> ArrayView:
        grid = self._counts(state)
        n = len(self.agents)
        obs = np.zeros((n, self.obs_dim), dtype=np.float32)
        tfrac = state.t / self.step_limit
        for c in range(n):
            i, j = self.ij(c)
            k = 0
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    ii, jj = i + di, j + dj
                    if 0 <= ii < self.rows and 0 <= jj < self.cols:
                        obs[c, k:k + _CH - 1] = np.minimum(grid[ii, jj] / 3.0, 1.0)
                    else:
                        obs[c, k + _CH - 1] = 1.0
                    k += _CH
            obs[c, k:] = (i / max(self.rows - 1, 1), j / max(self.cols - 1, 1), tfrac)
        gstate = np.concatenate([grid.reshape(-1) / 3.0, np.array([tfrac], dtype=np.float32)])
        return ArrayView(obs, gstate.astype(np.float32), self._mask(grid))

    def actions_from_indices(self, state: GridState, idx: Sequence[int] | np.ndarray) -> JointAction:
        mask = self._mask(self._counts(state))  # the observations are not needed to decode actions
        joint: dict[AgentId, str] = {}
        for c, a in enumerate(idx):
            a = int(a)
            if a <= 0 or a >= self.n_actions or not mask[c, a]:
                continue
            colour, d = COLOURS[(a - 1) // 5], (a - 1) % 5
            if d == 4:
                joint[self.agents[c]] = f"move(box_{colour}, target_{colour})"
            else:
                i, j = self.ij(c)
                joint[self.agents[c]] = f"move(box_{colour}, square[{i + DIRECTIONS[d][0]}, {j + DIRECTIONS[d][1]}])"
        return joint
