"""The what-if comparison, pure Python: one past recommendation against what a table version
recommends now for the same inputs, and the running totals of a simulation.

No Django here, so the simulation task and the benchmark share it and it can be tested alone.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

AMOUNT_OUTPUTS = ("recommended_amount", "amount")
KIND_OUTPUTS = ("refund_type", "kind")
AMOUNT_KINDS = ("goodwill", "redress")
# Outputs that explain rather than decide: a new wording is no change of outcome.
IGNORED_OUTPUTS = ("rationale_de", "rationale_en", "_rule")
CHANGES = ("error", "no_rule", "action", "amount_up", "amount_down", "other", "unchanged")
OUTCOME_CHANGES = ("no_rule", "action", "amount_up", "amount_down")
EXAMPLES_PER_CHANGE = 5


def amount_of(outputs: Any) -> Decimal | None:
    if not isinstance(outputs, dict):
        return None
    for name in AMOUNT_OUTPUTS:
        value = outputs.get(name)
        if value is not None and not isinstance(value, bool):
            try:
                return Decimal(str(value)).quantize(Decimal("0.01"))
            except (InvalidOperation, ValueError):
                return None
    return None


def action_of(outputs: Any) -> Any:
    return outputs.get("action") if isinstance(outputs, dict) else None


def kind_of(outputs: Any, default: str) -> str:
    if isinstance(outputs, dict):
        for name in KIND_OUTPUTS:
            if outputs.get(name) in AMOUNT_KINDS:
                return str(outputs[name])
    return default


def _decisive(outputs: Any) -> Any:
    if isinstance(outputs, dict):
        return {k: v for k, v in outputs.items() if k not in IGNORED_OUTPUTS}
    if isinstance(outputs, list):
        return [_decisive(item) for item in outputs]
    return outputs


def _empty(outputs: Any) -> bool:
    return outputs in ({}, [], None)


def classify(old: Any, new: Any) -> str:
    """The kind of change from the recommendation then (`old`) to the one now (`new`)."""
    if _empty(new) and not _empty(old):
        return "no_rule"
    if action_of(old) != action_of(new):
        return "action"
    old_amount, new_amount = amount_of(old), amount_of(new)
    if old_amount != new_amount and (old_amount is not None or new_amount is not None):
        return "amount_up" if (new_amount or Decimal(0)) > (old_amount or Decimal(0)) else "amount_down"
    if _decisive(old) != _decisive(new):
        return "other"
    return "unchanged"


@dataclass
class Past:
    """One past decision record, as the simulation reads it."""

    record_id: int
    case_id: int
    reference: str
    segment: str
    currency: str
    recommendation: Any
    rules_then: list[str] = field(default_factory=list)


@dataclass
class Tally:
    """What a simulation has counted so far; `result()` is the JSON stored on the run."""

    default_kind: str
    evaluated: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANGES, 0))
    # (kind, currency) → [old total, new total]; per segment: segment → (kind, currency) → ...
    totals: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)
    segments: dict[str, dict[tuple[str, str], list[Any]]] = field(default_factory=dict)
    _examples: dict[str, list[tuple[Decimal, int, dict[str, Any]]]] = field(default_factory=dict)

    def add(self, past: Past, new: Any, rules_now: list[str], error: str | None = None) -> str:
        self.evaluated += 1
        change = "error" if error is not None else classify(past.recommendation, new)
        self.counts[change] += 1
        old_amount, new_amount = amount_of(past.recommendation), amount_of(new) if error is None else None
        delta = Decimal(0)
        if error is None and (old_amount is not None or new_amount is not None):
            delta = (new_amount or Decimal(0)) - (old_amount or Decimal(0))
            kind = kind_of(new if new_amount is not None else past.recommendation, self.default_kind)
            if kind in AMOUNT_KINDS:
                key = (kind, past.currency)
                total = self.totals.setdefault(key, [Decimal(0), Decimal(0)])
                total[0] += old_amount or Decimal(0)
                total[1] += new_amount or Decimal(0)
                segment = self.segments.setdefault(past.segment or "", {}).setdefault(key, [Decimal(0), Decimal(0), 0, 0])
                segment[0] += old_amount or Decimal(0)
                segment[1] += new_amount or Decimal(0)
                segment[2] += 1
                segment[3] += 1 if change in OUTCOME_CHANGES else 0
        if change != "unchanged":
            example = {
                "record": past.record_id,
                "case": past.case_id,
                "reference": past.reference,
                "segment": past.segment,
                "then": {"action": action_of(past.recommendation), "amount": _text(old_amount), "rules": past.rules_then},
                "now": {"action": action_of(new), "amount": _text(new_amount), "rules": rules_now},
                "delta": _text(delta),
                "error": (error or "")[:300],
            }
            heap = self._examples.setdefault(change, [])
            item = (abs(delta), -past.record_id, example)
            if len(heap) < EXAMPLES_PER_CHANGE:
                heapq.heappush(heap, item)
            elif item[:2] > heap[0][:2]:
                heapq.heapreplace(heap, item)
        return change

    def result(self) -> dict[str, Any]:
        changed = sum(self.counts[name] for name in OUTCOME_CHANGES)
        return {
            "evaluated": self.evaluated,
            "changed": changed,
            "counts": self.counts,
            "totals": [
                {"kind": kind, "currency": currency, "then": _text(old), "now": _text(new), "delta": _text(new - old)}
                for (kind, currency), (old, new) in sorted(self.totals.items())
            ],
            "segments": [
                {
                    "segment": segment,
                    "kind": kind,
                    "currency": currency,
                    "then": _text(values[0]),
                    "now": _text(values[1]),
                    "delta": _text(values[1] - values[0]),
                    "records": values[2],
                    "changed": values[3],
                }
                for segment, per_kind in sorted(self.segments.items())
                for (kind, currency), values in sorted(per_kind.items())
            ],
            "examples": {
                change: [example for _size, _order, example in sorted(heap, key=lambda item: item[:2], reverse=True)]
                for change, heap in self._examples.items()
            },
        }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))
