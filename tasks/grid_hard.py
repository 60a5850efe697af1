"""Grid Transportation, Hard (the authors' env2 / HMAS BoxNet2): boxes on corners, collisions.

Rules. An R x C grid of cells with agents at the centres (``Agent[0.5, 1.5]`` in
``square[0.5, 1.5]``); targets lie at centres, boxes on the (R+1) x (C+1) corners. One box per colour
(5), each on a random free corner of a random cell (dropped with its target when all 4 corners of
that cell are taken, as in the authors' generator). An agent may move a box on one of its cell's 4
corners to another corner of its cell (``move(box_red, position(1.0, 2.0))``; ``position[1, 2]``
is accepted too) or onto the same-colour target at its centre. A joint action is applied in plan
order against the working board; after all of it, a position move whose destination corner holds
two or more boxes is a **collision**: the episode ends and the board is not committed. Moving onto
an occupied corner is therefore legal only if that corner is vacated in the same step (the
authors' "vacate and fill"), and two agents may move one box in turn (it can even move twice).
Success, step limits and the shaped reward are those of Easy (``tasks/grid_common.py``); the
Manhattan distance is taken from a box's corner to a target's centre, as the authors' rule gate does.
A collision gives every agent -1 and ``failure="collision"``.

RL view. 17 actions per agent: 0 = no-op, then ``1 + 4s + d`` for source corner s (the agent's
corners in the authors' order (i, j), (i, j+1), (i+1, j), (i+1, j+1)) and d = 0..2 the other three
corners in that order, d = 3 the target at the centre. Masks follow ``doable`` (source holds exactly
one box, destination empty, same-colour target present). Observation [153]: the 4x4 corners around
the agent's cell (5 colour flags + outside flag each), the 3x3 centres around it (5 target flags +
outside flag each), row/(R-1), col/(C-1), t/limit. Global state: every centre's and corner's colour
flags, then t/limit.

Deviations from the authors' code (golden/README.md "looks buggy"), each pinned by a test:
1. ``position[1.0]`` (one coordinate) raised IndexError ("Hallucination of wrong plan"); here it is
   skipped with feedback (``malformed_action`` in ``validate_plan``).
2. Entries that are not ``move(..)`` were dropped silently; here they get the skip feedback.
3. The syntax check was silent when the box is not on the agent's corners and when two agents move
   the same box; ``validate_plan`` reports ``not_doable`` and ``conflict`` for them.
4. The rule gate's direct feedback could name an agent outside the grid (a box with no target left:
   every distance is infinite and the first candidate, (x+0.5, y+0.5), wins); here only agents in
   the grid are named, and a box without a target gets ``Suspicious``.
Kept on purpose: moving onto an occupied corner is accepted by ``step`` and ends in a collision
(tasks.md: "a box moved onto an occupied corner ... fails"), a move to the box's own corner is a
harmless no-op, and ``doable`` hides occupied corners like the authors' central list.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from tasks.base import (
    WITHDRAW,
    AgentId,
    Agree,
    ArrayView,
    DirectFeedback,
    GateGoal,
    GateVerdict,
    JointAction,
    Plan,
    PlanError,
    PlanErrorKind,
    Suspicious,
)
from tasks.grid_common import COLOURS, GridState, GridTask, Transition, skip_text
from tasks.grid_hard_rules import HardEntry, HardRules
from tasks.plans import parse_agent_coords

_SHUFFLED_CORNERS = [(1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
_NC = len(COLOURS) + 1


class GridHard(HardRules, GridTask):
    family = "grid_hard"
    difficulty = "hard"
    action_format = "move(box_<colour>, position(x, y)) or move(box_<colour>, target_<colour>)"

    def _keys(self) -> tuple[str, ...]:
        centres = [f"{i + 0.5}_{j + 0.5}" for i in range(self.rows) for j in range(self.cols)]
        corners = [f"{float(x)}_{float(y)}" for x in range(self.rows + 1) for y in range(self.cols + 1)]
        return tuple(centres + corners)

    def _agent_names(self) -> tuple[AgentId, ...]:
        return tuple(f"Agent[{i + 0.5}, {j + 0.5}]" for i in range(self.rows) for j in range(self.cols))

    @staticmethod
    def generate(rows: int, cols: int, rng: random.Random) -> dict[str, list[str]]:
        """``env2_create.env_create(R, C, 1, 1, COLOURS)``: same draws, same call order."""
        places: dict[str, list[str]] = {f"{i + 0.5}_{j + 0.5}": [] for i in range(rows) for j in range(cols)}
        places.update({f"{float(x)}_{float(y)}": [] for x in range(rows + 1) for y in range(cols + 1)})
        for colour in COLOURS:
            for _ in range(rng.randint(1, 1)):
                n_box = rng.randint(0, rows * cols - 1)
                n_target = rng.randint(0, rows * cols - 1)
                a, b = n_box // cols, n_box % cols
                ta, tb = n_target // cols, n_target % cols
                corners = list(_SHUFFLED_CORNERS)
                rng.shuffle(corners)
                for dx, dy in corners:
                    key = f"{float(a) + dx}_{float(b) + dy}"
                    if not places[key]:
                        places[key].append(f"box_{colour}")
                        places[f"{ta + 0.5}_{tb + 0.5}"].append(f"target_{colour}")
                        break
        return places

    def place_name(self, key: str) -> str:
        x, y = key.split("_")
        return f"square[{x}, {y}]" if x.endswith(".5") else f"position({x}, {y})"

    # ------------------------------------------------------------------------------ dynamics
    def transition(self, state: GridState, joint: JointAction) -> Transition:
        places = [list(p) for p in state.places]
        entries = [self.read(k, v) for k, v in joint.items()]
        feedback: list[str] = []
        matched = 0
        for e in entries:
            if not self.apply(places, e):
                feedback.append(skip_text(e.label))
            elif isinstance(e.dest, str):
                matched += 1
        return Transition(tuple(tuple(p) for p in places), tuple(feedback),
                          self.collision_text(places, entries), matched)

    def doable(self, state: GridState) -> dict[AgentId, list[str]]:
        return {a: self.cell_actions(state.places, c, True) for c, a in enumerate(self.agents)}

    def authors_doable_text(self, state: GridState) -> str:
        """``state_update_func`` verbatim, for reproducing the authors' prompts."""
        lines = []
        for c, a in enumerate(self.agents):
            where = a[len("Agent"):]
            lines.append(f"{a}: I am in square{where}, I can observe {list(state.places[c])}, "
                         f"I can do {self.cell_actions(state.places, c, True)}\n")
        return "".join(lines)

    # ------------------------------------------------------------------------------ LLM face
    def place_action(self, item: str, place: tuple[float, ...]) -> str:
        return f"move({item}, position({float(place[0])}, {float(place[1])}))"

    def validate_plan(self, state: GridState, plan: Plan) -> tuple[PlanError, ...]:
        """The authors' syntax check (collision simulation, then each line against the step-start
        board) plus the two cases it let through: box not on the agent's corners, one box twice."""
        entries = [self.read(k, v) for k, v in plan.assignments]
        errors: list[PlanError] = []
        places = [list(p) for p in state.places]
        for e in entries:
            self.apply(places, e)
        text = self.collision_text(places, entries)
        if text is not None:
            errors.append(PlanError(PlanErrorKind.CONFLICT, text + "If you think this move is necessary, "
                                    "let another agent move the other box. Otherwise, abandon this move."))
        movers: dict[str, str] = {}
        seen: set[int] = set()
        for (key, value), e in zip(plan.assignments, entries, strict=True):
            if e.cell is None:
                who = f"Agent[{e.label.replace('_', ', ')}]" if parse_agent_coords(key) else key
                errors.append(PlanError(PlanErrorKind.UNKNOWN_AGENT, f"{who} is not in the agent list. ", key))
                continue
            if e.cell in seen:
                errors.append(PlanError(PlanErrorKind.CONFLICT, f"{key} has two assignments; ", key))
                continue
            seen.add(e.cell)
            if e.item is None or e.dest is None:
                errors.append(PlanError(PlanErrorKind.MALFORMED_ACTION,
                                        f"The task {value!r} for {e.label} is not a move(...) action; ", key))
            elif not self.legal(state.places, e):
                errors.append(PlanError(PlanErrorKind.NOT_DOABLE, skip_text(e.label), key))
            elif e.item in movers:
                errors.append(PlanError(PlanErrorKind.CONFLICT,
                                        f"{movers[e.item]} and {key} both move {e.item}; only one agent may "
                                        "move a box in one step. ", key))
            else:
                movers[e.item] = key
        return tuple(errors)

    def rule_gate(self, state: GridState, plan: Plan, agent: AgentId, goal: GateGoal = "nearest") -> GateVerdict:
        """The authors' ``get_actor_feedback_or_not``: direct feedback when no empty corner of this
        agent is closer to the target than the box is; ask the LLM when the planned corner is not
        closer (with the nearest free corner as the fix ``actor_gate="direct"|"apply"`` uses) or the plan
        makes this agent's move collide; else agree.

        ``paired`` (ours, the lean preset): instead of the direct feedback, the line is suspicious with a
        fix, so an actor that applies its fix does not send the step back to the planner (the 0.5B model's
        re-plans collided again, results/llm_benchmarks.md): the move it would volunteer if idle (another
        box on its corners brought closer, ``idle_move``), else ``WITHDRAW`` (its line leaves the plan and
        the agent that can move the box may volunteer)."""
        line = plan.as_dict().get(agent)
        if line is None:
            return Agree()
        e = self.read(agent, line)
        if isinstance(e.dest, str) and self.legal(state.places, e):
            return Agree()
        if e.cell is None or e.item is None or not isinstance(e.dest, tuple):
            return Suspicious(f"{line} is not in your doable action list")
        box_corner = self.find_box(state.places, e.cell, e.item)
        if box_corner is None:
            return Suspicious(f"{e.item} is not on a corner of your square")
        targets = self.target_centres(state, e.item[4:])
        if not targets:
            return Suspicious(f"there is no target_{e.item[4:]} for {e.item}")
        before = self.nearest(self.corner_xy(box_corner), targets)
        planned = self.nearest(e.dest, targets)
        free = [self.corner_xy(k) for k in self.corners_of(e.cell)
                if k != box_corner and not state.places[k]]
        best = min(free, key=lambda xy: self.nearest(xy, targets), default=None)
        if best is None or self.nearest(best, targets) >= before:
            text = ("You cannot plan any actions for the box because you cannot move it closer to the "
                    f"target. Let {self.best_agent(self.corner_xy(box_corner), targets)} move the box to "
                    "achieve the goal.")
            if goal == "paired":  # this agent's own useful move (another box of its corners), else none
                return Suspicious(text, self.idle_move(state, agent) or WITHDRAW)
            return DirectFeedback(text)
        places = [list(p) for p in state.places]
        entries = [self.read(k, v) for k, v in plan.assignments]
        for other in entries:
            self.apply(places, other)
        clash = self.collision_text(places, [e])
        if clash is not None:
            return Suspicious(clash.strip())
        if before <= planned:
            # the nearest free corner is closer (else DirectFeedback above): it is the fix
            return Suspicious(f"the plan does not bring {e.item} closer to target_{e.item[4:]} "
                              f"(distance {before} -> {planned})", self.place_action(e.item, best))
        return Agree()

    def idle_move(self, state: GridState, agent: AgentId, goal: GateGoal = "nearest") -> str | None:
        """The move an agent the plan left idle could make itself (LLaMAC's ``idle_actors="volunteer"``):
        a box on a corner of its square matched with a target in the square, else a box carried to the free
        corner of its square nearest a target, when that is strictly closer; ``None`` otherwise."""
        cell = self._agent_index[agent]
        best: tuple[float, str] | None = None
        for k in self.corners_of(cell):
            if len(state.places[k]) != 1 or not state.places[k][0].startswith("box_"):
                continue
            box = state.places[k][0]
            if f"target_{box[4:]}" in state.places[cell]:
                return f"move({box}, target_{box[4:]})"
            targets = self.target_centres(state, box[4:])
            if not targets:
                continue
            before = self.nearest(self.corner_xy(k), targets)
            for c in self.corners_of(cell):
                if c != k and not state.places[c]:
                    after = self.nearest(self.corner_xy(c), targets)
                    if after < before and (best is None or after - before < best[0]):
                        best = (after - before, self.place_action(box, self.corner_xy(c)))
        return best[1] if best else None

    def rules_text(self) -> str:
        return (f"Grid Transportation (hard): a {self.rows}x{self.cols} grid of squares with one agent at "
                "each square's centre (Agent[0.5, 1.5] sits in square[0.5, 1.5]). Boxes lie on square "
                "corners position(x, y) with whole x, y; targets lie at square centres. An agent can move "
                "a box on one of its 4 corners to another of its corners, move(box_<colour>, position(x, y)), "
                "or onto the same-colour target at its centre, move(box_<colour>, target_<colour>); one "
                "action per agent per step. Each corner holds at most one box: moving two boxes onto one "
                "corner, or a box onto a corner that stays occupied, is a collision and the mission fails. "
                "Do not let two agents move the same box. Goal: match every box with its target in as few "
                f"steps as possible (limit {self.step_limit}). A plan is a JSON object "
                "{\"Agent[x, y]\": \"move(...)\"}; include only agents that act.")

    def state_text(self, state: GridState) -> str:
        n = self.rows * self.cols
        targets = self._listing(state, self.keys[:n])
        boxes = self._listing(state, self.keys[n:])
        return f"Step {state.t}/{self.step_limit}. Targets: {targets}. Boxes: {boxes}"

    def actor_view(self, state: GridState, agent: AgentId, plan: Plan) -> str:
        cell = self._agent_index[agent]
        lines = [f"You are {agent}; your centre holds: {', '.join(state.places[cell]) or 'nothing'}."]
        mine = []
        for k in self.corners_of(cell):
            for box in state.places[k]:
                centres = [self.place_name(self.keys[c]) for c in range(self.rows * self.cols)
                           if f"target_{box[4:]}" in state.places[c]]
                mine.append(f"{box} at {self.place_name(self.keys[k])}, target_{box[4:]} in "
                            f"{', '.join(centres) or 'nowhere'}")
        lines.append(f"Boxes on your corners: {'; '.join(mine) if mine else 'none'}.")
        acts = self.doable(state)[agent]
        lines.append(f"Your doable actions: {' | '.join(acts) if acts else 'none'}.")
        line = plan.as_dict().get(agent)
        lines.append(f"The plan's line for you: {line if line is not None else 'no action'}.")
        return "\n".join(lines)

    # ------------------------------------------------------------------------------- RL face
    def _setup_arrays(self) -> None:
        self.n_actions = 1 + 4 * 4
        self.obs_dim = 16 * _NC + 9 * _NC + 3
        self.state_dim = (self.rows * self.cols + (self.rows + 1) * (self.cols + 1)) * len(COLOURS) + 1

    def _flags(self, items: Sequence[str]) -> np.ndarray:
        v = np.zeros(_NC, dtype=np.float32)
        for it in items:
            v[COLOURS.index(it.split("_", 1)[1])] = 1.0
        return v

    def arrays(self, state: GridState) -> ArrayView:
        n = len(self.agents)
        obs = np.zeros((n, self.obs_dim), dtype=np.float32)
        mask = np.zeros((n, self.n_actions), dtype=bool)
        mask[:, 0] = True
        tfrac = state.t / self.step_limit
        outside = np.zeros(_NC, dtype=np.float32)
        outside[-1] = 1.0
        for c in range(n):
            i, j = divmod(c, self.cols)
            k = 0
            for x in range(i - 1, i + 3):
                for y in range(j - 1, j + 3):
                    inside = 0 <= x <= self.rows and 0 <= y <= self.cols
                    obs[c, k:k + _NC] = self._flags(state.places[self.corner_index(x, y)]) if inside else outside
                    k += _NC
            for x in range(i - 1, i + 2):
                for y in range(j - 1, j + 2):
                    inside = 0 <= x < self.rows and 0 <= y < self.cols
                    obs[c, k:k + _NC] = self._flags(state.places[x * self.cols + y]) if inside else outside
                    k += _NC
            obs[c, k:] = (i / max(self.rows - 1, 1), j / max(self.cols - 1, 1), tfrac)
            for s, d, action in self.indexed_actions(state.places, c):
                mask[c, 1 + 4 * s + d] = action is not None
        flat = [self._flags(p)[:-1] for p in state.places]
        gstate = np.concatenate([*flat, np.array([tfrac], dtype=np.float32)])
        return ArrayView(obs, gstate.astype(np.float32), mask)

    def actions_from_indices(self, state: GridState, idx: Sequence[int] | np.ndarray) -> JointAction:
        joint: dict[AgentId, str] = {}
        for c, a in enumerate(idx):
            a = int(a)
            if a <= 0 or a >= self.n_actions:
                continue
            table = {1 + 4 * s + d: act for s, d, act in self.indexed_actions(state.places, c)}
            if table.get(a) is not None:
                joint[self.agents[c]] = str(table[a])
        return joint


__all__ = ["GridHard", "HardEntry"]
