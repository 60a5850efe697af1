"""Hard grid geometry and the judging of one assignment (the authors' ``judge_move_box2pos_box2target``).

Places are indexed as in the state tuple: centres first (cell ``c = i * C + j``), then corners
(``R * C + x * (C + 1) + y``). Coordinates keep the authors' floats: a centre is ``(i + 0.5, j + 0.5)``,
a corner ``(x.0, y.0)``, and texts print them with Python's float repr (``position(1.0, 2.0)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tasks.base import AgentId
from tasks.grid_common import GridState, split_official
from tasks.plans import numbers, parse_agent_coords

Places = Sequence[Sequence[str]]


@dataclass(frozen=True)
class HardEntry:
    """One assignment read with the authors' grammar; ``dest`` None = unreadable position."""

    label: str
    cell: int | None
    item: str | None = None
    dest: tuple[float, float] | str | None = None


class HardRules:
    """Mixin for ``GridHard``: geometry, reading, judging and applying assignments."""

    rows: int
    cols: int
    agents: tuple[AgentId, ...]

    # ---------------------------------------------------------------------------- geometry
    def centre_cell(self, coords: Sequence[float] | None) -> int | None:
        if coords is None or len(coords) != 2:
            return None
        i, j = coords[0] - 0.5, coords[1] - 0.5
        if not (float(i).is_integer() and float(j).is_integer()):
            return None
        i, j = int(i), int(j)
        return i * self.cols + j if 0 <= i < self.rows and 0 <= j < self.cols else None

    def agent_at(self, coords: tuple[float, float]) -> AgentId | None:
        cell = self.centre_cell(coords)
        return None if cell is None else self.agents[cell]

    def corner_index(self, x: int, y: int) -> int:
        return self.rows * self.cols + x * (self.cols + 1) + y

    def corner_xy(self, k: int) -> tuple[float, float]:
        x, y = divmod(k - self.rows * self.cols, self.cols + 1)
        return float(x), float(y)

    def corners_of(self, cell: int) -> list[int]:
        """The agent's corners in the authors' order: (i, j), (i, j+1), (i+1, j), (i+1, j+1)."""
        i, j = divmod(cell, self.cols)
        return [self.corner_index(i + dx, j + dy) for dx, dy in ((0, 0), (0, 1), (1, 0), (1, 1))]

    def target_centres(self, state: GridState, colour: str) -> list[tuple[float, float]]:
        out = []
        for c in range(self.rows * self.cols):
            if f"target_{colour}" in state.places[c]:
                i, j = divmod(c, self.cols)
                out.append((i + 0.5, j + 0.5))
        return out

    @staticmethod
    def nearest(xy: Sequence[float], targets: Sequence[Sequence[float]]) -> float:
        return min((abs(xy[0] - t[0]) + abs(xy[1] - t[1]) for t in targets), default=math.inf)

    def best_agent(self, corner: tuple[float, float], targets: Sequence[Sequence[float]]) -> str:
        """The in-grid agent sharing ``corner`` whose centre is nearest a target (authors' order)."""
        x, y = corner
        best, best_d = None, math.inf
        for a in ((x + 0.5, y + 0.5), (x + 0.5, y - 0.5), (x - 0.5, y - 0.5), (x - 0.5, y + 0.5)):
            if self.centre_cell(a) is None:
                continue
            d = self.nearest(a, targets)
            if best is None or d < best_d:
                best, best_d = a, d
        assert best is not None  # every corner touches at least one cell
        return f"Agent[{best[0]}, {best[1]}]"

    def potential(self, state: GridState) -> float:
        total = 0.0
        n = self.rows * self.cols
        for k in range(n, len(state.places)):
            for box in state.places[k]:
                d = self.nearest(self.corner_xy(k), self.target_centres(state, box[4:]))
                total += 0.0 if math.isinf(d) else d
        return total

    # ---------------------------------------------------------------------------- judging
    def read(self, key: str, value: Any) -> HardEntry:
        coords = parse_agent_coords(key)
        label = f"{coords[0]}_{coords[1]}" if coords else str(key)
        cell = self.centre_cell(coords)
        split = split_official(value)
        if split is None:
            return HardEntry(label, cell)
        item, loc = split
        dest: tuple[float, float] | str | None = loc
        if "position" in loc:
            nums = numbers(loc)
            dest = (nums[0], nums[1]) if len(nums) == 2 else None
        return HardEntry(label, cell, item, dest)

    def find_box(self, places: Places, cell: int, item: str) -> int | None:
        return next((k for k in self.corners_of(cell) if item in places[k]), None)

    def _dest_corner(self, cell: int, dest: tuple[float, float]) -> int | None:
        i, j = divmod(cell, self.cols)
        if abs(i + 0.5 - dest[0]) == 0.5 and abs(j + 0.5 - dest[1]) == 0.5:
            return self.corner_index(int(dest[0]), int(dest[1]))
        return None

    def legal(self, places: Places, e: HardEntry) -> bool:
        if e.cell is None or e.item is None or e.dest is None:
            return False
        if self.find_box(places, e.cell, e.item) is None:
            return False
        if isinstance(e.dest, tuple):
            return self._dest_corner(e.cell, e.dest) is not None
        return (e.dest in places[e.cell] and e.item.startswith("box_") and e.dest.startswith("target_")
                and e.item[4:] == e.dest[7:])

    def apply(self, places: list[list[str]], e: HardEntry) -> bool:
        """Apply one assignment to the working board if the authors' judge accepts it."""
        if not self.legal(places, e):
            return False
        assert e.cell is not None and e.item is not None and e.dest is not None
        src = self.find_box(places, e.cell, e.item)
        assert src is not None
        places[src].remove(e.item)
        if isinstance(e.dest, tuple):
            dst = self._dest_corner(e.cell, e.dest)
            assert dst is not None
            places[dst].append(e.item)
        else:
            places[e.cell].remove(e.dest)
        return True

    def collision_text(self, places: Places, entries: Sequence[HardEntry]) -> str | None:
        """After the whole plan: the first position move whose corner holds 2+ boxes (authors' text)."""
        for e in entries:
            if isinstance(e.dest, tuple) and self.legal(places, e):
                assert e.cell is not None
                dst = self._dest_corner(e.cell, e.dest)
                if dst is not None and len(places[dst]) > 1:
                    return (f"Cannot move {e.item} to position{e.dest}. This results in multiple boxes "
                            f"{list(places[dst])} at the position{e.dest} and the mission will fail. \n")
        return None

    # ---------------------------------------------------------------------------- actions
    def indexed_actions(self, places: Places, cell: int) -> list[tuple[int, int, str | None]]:
        """(source corner s, destination d, action or None) for the 16 non-no-op RL actions."""
        corners = self.corners_of(cell)
        out: list[tuple[int, int, str | None]] = []
        for s, k in enumerate(corners):
            box = places[k][0] if len(places[k]) == 1 else None
            others = [c for c in corners if c != k]
            for d, c in enumerate(others):
                ok = box is not None and not places[c]
                x, y = self.corner_xy(c)
                out.append((s, d, f"move({box}, position({x}, {y}))" if ok else None))
            ok = box is not None and f"target_{box[4:]}" in places[cell]
            out.append((s, 3, f"move({box}, target_{box[4:]})" if ok and box else None))
        return out

    def cell_actions(self, places: Places, cell: int, _unique: bool = True) -> list[str]:
        """The authors' central doable list: only empty destination corners."""
        return [a for _, _, a in self.indexed_actions(places, cell) if a is not None]
