"""The greedy planner: a scripted coordinator giving the reference lower bound on grid steps.

Easy: boxes are paired with same-colour targets by a min-(max, sum) distance assignment, then every
agent either matches a box that sits on its target or pushes the box with the most remaining work
one cell along a shortest (Manhattan) path, into the less loaded of the (up to two) squares on such
a path. Agents act only on their own cells, so Easy plans never conflict.

Hard: a box moves along a shortest path on the corner graph (king moves inside a cell) towards any
corner of its target's cell, routing around other boxes. On a board seen before (a loop) or when
nothing can move, the boxes are tried in a shuffled order, a blocked box pushes an idle box off its
next corner, and one idle box side-steps at random. A step's plan never collides: each box is
moved by one agent, each agent acts once, and a box only moves onto a corner that is empty at the
start of the step and not claimed by another move (so no "vacate and fill" either). Boxes on a corner
of their target's cell are matched first.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tasks.base import AgentId, TaskError
from tasks.coordinator import Decision, StepMemory
from tasks.grid_common import GridState, GridTask, box_target_pairs
from tasks.grid_easy import GridEasy
from tasks.grid_hard import GridHard


def plan_easy(task: GridEasy, state: GridState) -> dict[AgentId, str]:
    """Longest remaining job first per cell; between two shortest-path squares, the less loaded."""
    cells = range(len(task.agents))
    load = [sum(1 for it in p if it.startswith("box_")) for p in state.places]
    work: dict[int, list[tuple[int, int, str, int]]] = {}
    for box, colour, target in box_target_pairs(task, state, cells, cells, task.distance):
        if target is not None:
            d = task.distance(box, target)
            work.setdefault(box, []).append((d + 1, int(d == 0), colour, target))
    joint: dict[AgentId, str] = {}
    for cell, jobs in sorted(work.items(), key=lambda kv: (-max(kv[1])[0], kv[0])):
        _, _, colour, target = max(jobs)
        if cell == target:
            joint[task.agents[cell]] = f"move(box_{colour}, target_{colour})"
            continue
        (i, j), (ti, tj) = task.ij(cell), task.ij(target)
        options = []
        if ti != i:
            options.append((i + (1 if ti > i else -1), j))
        if tj != j:
            options.append((i, j + (1 if tj > j else -1)))
        ni, nj = min(options, key=lambda o: load[o[0] * task.cols + o[1]])
        load[ni * task.cols + nj] += 1
        joint[task.agents[cell]] = f"move(box_{colour}, square[{ni}, {nj}])"
    return joint


def _corner_neighbours(task: GridHard, k: int) -> list[int]:
    x, y = (int(v) for v in task.corner_xy(k))
    return [task.corner_index(x + dx, y + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
            if (dx or dy) and 0 <= x + dx <= task.rows and 0 <= y + dy <= task.cols]


def _shared_cells(task: GridHard, a: int, b: int) -> list[int]:
    """Cells having both corners ``a`` and ``b`` (the agents that can move a box from a to b)."""
    (ax, ay), (bx, by) = task.corner_xy(a), task.corner_xy(b)
    rows = range(max(int(max(ax, bx)) - 1, 0), min(int(min(ax, bx)), task.rows - 1) + 1)
    cols = range(max(int(max(ay, by)) - 1, 0), min(int(min(ay, by)), task.cols - 1) + 1)
    return [i * task.cols + j for i in rows for j in cols]


def _distances(task: GridHard, goals: list[int], blocked: set[int]) -> dict[int, int]:
    dist = {g: 0 for g in goals if g not in blocked}
    queue = deque(dist)
    while queue:
        k = queue.popleft()
        for n in _corner_neighbours(task, k):
            if n not in dist and n not in blocked:
                dist[n] = dist[k] + 1
                queue.append(n)
    return dist


@dataclass
class _HardStep:
    """The plan of one Hard step while it is built: who acts, which corners are taken, which boxes moved.

    Every move goes through ``move``, so no agent acts twice, no box moves twice and no corner is
    claimed twice: that is what keeps a greedy plan free of conflicts and collisions.
    """

    task: GridHard
    state: GridState
    occupied: set[int]
    joint: dict[AgentId, str] = field(default_factory=dict)
    busy: set[int] = field(default_factory=set)
    claimed: set[int] = field(default_factory=set)
    moved: set[int] = field(default_factory=set)

    def free_agent(self, a: int, b: int) -> int | None:
        """An agent not yet acting that can move a box from corner ``a`` to corner ``b``."""
        return next((c for c in _shared_cells(self.task, a, b) if c not in self.busy), None)

    def move(self, agent: int, src: int, item: str, dest: int) -> None:
        self.busy.add(agent)
        self.claimed.add(dest)
        self.moved.add(src)
        x, y = self.task.corner_xy(dest)
        self.joint[self.task.agents[agent]] = f"move({item}, position({x}, {y}))"

    def match(self, cell: int, src: int, colour: str) -> None:
        self.busy.add(cell)
        self.moved.add(src)
        self.joint[self.task.agents[cell]] = f"move(box_{colour}, target_{colour})"

    def push_aside(self, box: int, wanted: list[int]) -> None:
        """A blocked box's next corner holds an idle box: move that one off the path, if it can go."""
        for w in wanted:
            if w not in self.occupied or w in self.moved:
                continue
            for z in _corner_neighbours(self.task, w):
                if z in self.occupied or z in self.claimed or z in wanted or z == box:
                    continue
                agent = self.free_agent(w, z)
                if agent is None:
                    continue
                self.move(agent, w, self.state.places[w][0], z)
                return

    def side_step(self) -> None:
        """Break a gridlock or a loop: move one idle box to a random empty corner next to it."""
        rng = random.Random(f"{self.state.places}{self.state.t}")
        idle = sorted(self.occupied - self.moved)
        rng.shuffle(idle)
        for box in idle:
            options = [(nxt, c) for nxt in _corner_neighbours(self.task, box) if nxt not in self.occupied | self.claimed
                       for c in _shared_cells(self.task, box, nxt) if c not in self.busy]
            if options:
                nxt, agent = rng.choice(options)
                self.move(agent, box, self.state.places[box][0], nxt)
                return


def plan_hard(task: GridHard, state: GridState, stuck: bool = False) -> dict[AgentId, str]:
    """One collision-free step; ``stuck`` (a board seen before) adds a random side-step."""
    n = task.rows * task.cols
    corners = range(n, len(state.places))

    def corner_to_cell(k: int, cell: int) -> float:
        return 0 if k in task.corners_of(cell) else 1 + min(
            max(abs(task.corner_xy(k)[0] - task.corner_xy(c)[0]), abs(task.corner_xy(k)[1] - task.corner_xy(c)[1]))
            for c in task.corners_of(cell))

    plan = _HardStep(task, state, occupied={k for k in corners if state.places[k]})
    blocked: list[tuple[int, list[int]]] = []
    moves = []
    for box, colour, target in box_target_pairs(task, state, corners, range(n), corner_to_cell):
        if target is None:
            continue
        if box in task.corners_of(target) and target not in plan.busy:
            plan.match(target, box, colour)
        else:
            moves.append((corner_to_cell(box, target), box, colour, target))
    moves.sort(reverse=True)
    if stuck:  # a loop: try the boxes in another order
        random.Random(f"{state.places}{state.t}").shuffle(moves)
    for _, box, colour, target in moves:
        dist = _distances(task, task.corners_of(target), plan.occupied - {box})
        if box not in dist:
            dist = _distances(task, task.corners_of(target), set())
        here = dist.get(box)
        if here is None or here == 0:
            continue
        wanted = [nxt for nxt in _corner_neighbours(task, box) if dist.get(nxt) == here - 1]
        for nxt in wanted:
            if nxt in plan.occupied or nxt in plan.claimed:
                continue
            agent = plan.free_agent(box, nxt)
            if agent is None:
                continue
            plan.move(agent, box, f"box_{colour}", nxt)
            break
        else:
            blocked.append((box, wanted))
    if stuck or not plan.joint:
        for box, wanted in blocked:
            plan.push_aside(box, wanted)
        plan.side_step()
    return plan.joint


class GreedyPlanner:
    """The ``greedy`` coordinator (no LLM): shortest-path moves, no conflicts, no collisions."""

    name = "greedy"

    async def decide(self, task: Any, state: Any, history: Sequence[StepMemory]) -> Decision:
        seen = isinstance(task, GridTask) and any(
            m.state_text == task.state_text(replace(state, t=m.t)) for m in history)
        return Decision(joint_action=self.plan(task, state, stuck=seen))

    @staticmethod
    def plan(task: Any, state: GridState, stuck: bool = False) -> dict[AgentId, str]:
        """The next joint action; ``stuck`` says this board was seen before (Hard side-steps)."""
        if isinstance(task, GridHard):
            return plan_hard(task, state, stuck)
        if isinstance(task, GridEasy):
            return plan_easy(task, state)
        raise TaskError(f"the greedy planner plays grid tasks only, not {getattr(task, 'family', task)!r}")


def run_greedy(task: GridTask) -> tuple[bool, int, str | None]:
    """Play one episode with the greedy planner: (success, steps, failure)."""
    state = task.initial_state()
    steps = 0
    seen: set[tuple] = set()
    while True:
        out = task.step(state, GreedyPlanner.plan(task, state, stuck=state.places in seen))
        seen.add(state.places)
        steps += 1
        state = out.state
        if out.done:
            return out.success, steps, out.failure
