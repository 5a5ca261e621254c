"""Geometry of the result charts (radar and bars), drawn as SVG by the templates and as
vector graphics in the PDF. Pure Python: coordinates only, no markup."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

MAX_SCORE = 3
Number = Fraction | float | int


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    anchor: str  # start | middle | end
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Series:
    key: str
    points: tuple[Point, ...]

    @property
    def polygon(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Radar:
    width: int
    height: int
    centre: Point
    radius: float
    rings: tuple[str, ...]  # polygons of levels 1, 2, 3
    axes: tuple[Point, ...]
    labels: tuple[Label, ...]
    series: tuple[Series, ...]


def _split(label: str) -> tuple[str, ...]:
    """Two lines at the ampersand, so long dimension names fit beside the chart."""
    if " & " in label:
        head, tail = label.split(" & ", 1)
        return (f"{head} &", tail)
    return (label,)


def radar(
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number]],
    *,
    radius: float = 110,
    margin_x: float = 168,
    margin_y: float = 58,
) -> Radar:
    """Axes start at the top and go clockwise; a value v lies at v/3 of the radius."""
    count = len(labels)
    centre = Point(radius + margin_x, radius + margin_y)

    def at(index: int, fraction: float) -> Point:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        return Point(
            round(centre.x + math.cos(angle) * radius * fraction, 1), round(centre.y + math.sin(angle) * radius * fraction, 1)
        )

    rings = tuple(
        " ".join(f"{p.x:.1f},{p.y:.1f}" for p in (at(i, level / MAX_SCORE) for i in range(count))) for level in (1, 2, 3)
    )
    axes = tuple(at(i, 1) for i in range(count))
    placed = []
    for index, label in enumerate(labels):
        point = at(index, 1.12)
        dx = point.x - centre.x
        anchor = "middle" if abs(dx) < 1 else ("start" if dx > 0 else "end")
        lines = _split(label)
        extra_lines = len(lines) - 1
        if abs(dx) < 1 and point.y < centre.y:  # above the chart: grow upwards
            y = point.y - 18 * extra_lines - 4
        elif abs(dx) < 1:  # below the chart: start under the axis end
            y = point.y + 14
        else:  # beside the chart: centred on the axis end
            y = point.y - 9 * extra_lines + 4
        placed.append(Label(point.x, round(y, 1), anchor, lines))
    drawn = tuple(
        Series(key, tuple(at(i, float(value) / MAX_SCORE) for i, value in enumerate(values))) for key, values in series.items()
    )
    return Radar(
        width=int(2 * (radius + margin_x)),
        height=int(2 * (radius + margin_y)),
        centre=centre,
        radius=radius,
        rings=rings,
        axes=axes,
        labels=tuple(placed),
        series=drawn,
    )


@dataclass(frozen=True)
class Bar:
    key: str
    y: float
    width: float
    value: Number


def bar_width(value: Number, full: float) -> float:
    return round(float(value) / MAX_SCORE * full, 1)


def bars(values: Mapping[str, Number], *, full: float = 300, height: float = 14, gap: float = 4) -> tuple[Bar, ...]:
    """Bars of one dimension for each series (e.g. one per group), stacked from the top."""
    return tuple(
        Bar(key, round(index * (height + gap), 1), bar_width(value, full), value)
        for index, (key, value) in enumerate(values.items())
    )
