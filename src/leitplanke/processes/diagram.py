"""The process as a diagram: positions of states and arrows, computed on the server.

Pure Python (no Django): states in columns by their distance from the initial state,
arrows between box edges, a bend for steps that go back or stay in a column. The template
(processes/_diagram.svg) draws it; labels are escaped there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BOX_W, BOX_H, GAP_X, MARGIN = 150, 46, 46, 20
ARC_BASE, ARC_STEP = 26, 26
KIND_COLOURS = {"open": "#e8f0fe", "waiting": "#fff4d6", "resolved": "#e3f5e8", "closed": "#eceff1"}


@dataclass(frozen=True)
class Box:
    key: str
    label: str
    kind: str
    x: int
    y: int
    fill: str
    initial: bool


@dataclass(frozen=True)
class Arrow:
    key: str
    label: str
    path: str
    label_x: int
    label_y: int


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    box_w: int = BOX_W
    box_h: int = BOX_H


def _sources(transition: Mapping[str, Any]) -> list[str]:
    sources = transition.get("from")
    if isinstance(sources, str):
        return [sources]
    return [str(s) for s in sources] if isinstance(sources, list) else []


def _order(keys: list[str], initial: Any, edges: dict[str, list[str]]) -> list[str]:
    """States left to right: the longest path from the initial state over the steps that
    lead forward (a depth-first search marks the ones that lead back); ties keep the
    definition's order; unreachable states go last."""
    back: set[tuple[str, str]] = set()
    if initial in keys:
        on_path: set[str] = set()
        done: set[str] = set()
        stack: list[tuple[str, int]] = [(str(initial), 0)]
        on_path.add(str(initial))
        while stack:
            node, index = stack[-1]
            targets = edges.get(node, [])
            if index < len(targets):
                stack[-1] = (node, index + 1)
                target = targets[index]
                if target in on_path:
                    back.add((node, target))
                elif target not in done:
                    on_path.add(target)
                    stack.append((target, 0))
            else:
                stack.pop()
                on_path.discard(node)
                done.add(node)
    depth = {str(initial): 0} if initial in keys else {}
    for _round in range(len(keys)):
        changed = False
        for source in list(depth):
            for target in edges.get(source, []):
                if (source, target) not in back and depth.get(target, -1) < depth[source] + 1:
                    depth[target] = depth[source] + 1
                    changed = True
        if not changed:
            break
    last = max(depth.values(), default=-1) + 1
    position = {key: index for index, key in enumerate(keys)}
    return sorted(keys, key=lambda k: (depth.get(k, last), position[k]))


def layout(definition: Mapping[str, Any], language: str) -> Diagram:
    """Never raises on a broken draft: unknown states and steps are skipped. The states
    stand in one row; a step forward is an arc above, a step back an arc below, higher
    the farther it goes, its label at the top of the arc."""
    states = [s for s in definition.get("states") or [] if isinstance(s, Mapping) and isinstance(s.get("key"), str)]
    keys = list(dict.fromkeys(s["key"] for s in states))
    by_key = {s["key"]: s for s in states}
    transitions = [t for t in definition.get("transitions") or [] if isinstance(t, Mapping)]
    edges: dict[str, list[str]] = {}
    for t in transitions:
        for source in _sources(t):
            if source in by_key and t.get("to") in by_key:
                edges.setdefault(source, []).append(str(t["to"]))
    initial = definition.get("initial")
    order = _order(keys, initial, edges)
    column = {key: index for index, key in enumerate(order)}
    # Arc heights: the widest span sets how much room above and below the row needs.
    spans_up = [column[t] - column[s] for s, ts in edges.items() for t in ts if column[t] > column[s]]
    spans_down = [column[s] - column[t] for s, ts in edges.items() for t in ts if column[t] <= column[s]]
    above = (ARC_BASE + ARC_STEP * max(spans_up, default=0)) * 3 // 4 + 30
    below = (ARC_BASE + ARC_STEP * (max(spans_down, default=0) + 1)) * 3 // 4 + 40
    row_y = MARGIN + above
    boxes: dict[str, Box] = {}
    for key in order:
        state = by_key[key]
        kind = str(state.get("kind") or "")
        boxes[key] = Box(
            key=key,
            label=str(state.get(f"label_{language}") or state.get("label_en") or key),
            kind=kind,
            x=MARGIN + column[key] * (BOX_W + GAP_X),
            y=row_y,
            fill=KIND_COLOURS.get(kind, "#ffffff"),
            initial=key == initial,
        )
    arrows = []
    seen: dict[tuple[int, int], int] = {}
    for t in transitions:
        target = boxes.get(str(t.get("to")))
        label = str(t.get(f"label_{language}") or t.get("label_en") or t.get("key") or "")
        sources = [boxes[k] for k in _sources(t) if k in boxes]
        if target is None or not sources:
            continue
        # One label per step, on its shortest arc (the others share it).
        goal = target
        labelled = min(sources, key=lambda b: abs(column[goal.key] - column[b.key]))
        for box in sources:
            span = column[goal.key] - column[box.key]
            lane = (span, column[box.key])
            nudge = seen.get(lane, 0)
            seen[lane] = nudge + 1
            shown = label if box is labelled else ""
            arrows.append(_arrow(str(t.get("key") or ""), shown, box, goal, span, nudge))
    width = MARGIN * 2 + max(len(order), 1) * (BOX_W + GAP_X)
    height = row_y + BOX_H + below + MARGIN
    return Diagram(width=width, height=height, boxes=tuple(boxes.values()), arrows=tuple(arrows))


def _arrow(key: str, label: str, source: Box, target: Box, span: int, nudge: int) -> Arrow:
    if span > 0:  # forward: an arc above the row
        x1, x2 = source.x + BOX_W // 2 + 12, target.x + BOX_W // 2 - 12
        y = source.y
        top = y - ARC_BASE - ARC_STEP * (span - 1) - 8 * nudge
        mid = (x1 + x2) // 2
        return Arrow(key, label, f"M{x1},{y} C{x1},{top} {x2},{top} {x2},{y}", mid, top + (y - top) // 4 - 2)
    # back (or to itself): an arc below the row
    x1, x2 = source.x + BOX_W // 2 - 12, target.x + BOX_W // 2 + 12
    y = source.y + BOX_H
    bottom = y + ARC_BASE + ARC_STEP * (-span) + 8 * nudge + (20 if span == 0 else 0)
    mid = (x1 + x2) // 2
    return Arrow(key, label, f"M{x1},{y} C{x1},{bottom} {x2},{bottom} {x2},{y}", mid, bottom - (bottom - y) // 4 + 12)
