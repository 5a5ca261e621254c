"""Deadline arithmetic for integrators and auditors: `POST /deadlines/compute` returns the due
time, the warning time and the explanation of a rule (inline or by key and version), and
`GET /deadlines/rules` lists the rule versions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from leitplanke.api.auth import require_scope
from leitplanke.api.schemas import Problem
from leitplanke.deadlines import calculations, selectors, services

router = Router(tags=["deadlines"])
ERRORS: dict[int, Any] = {401: Problem, 403: Problem, 422: Problem}

Measure = Literal["business_days", "business_hours", "calendar_days", "weeks", "months", "elapsed_hours"]


class PauseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    end: AwareDatetime | None = Field(None, description="Empty: the pause is still running (no due time then).")
    reason: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _order(self) -> PauseIn:
        if self.end is not None and self.end < self.start:
            raise ValueError("the pause ends before it starts")
        return self


class ExtensionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    event: str = Field(max_length=64, examples=["holding_reply"])
    at: AwareDatetime


class ComputeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    rule: dict[str, Any] | None = Field(
        None,
        description="An inline rule (docs/deadlines.md): measure, duration, due_time, end_roll, pauses_stop, extensions …",
        examples=[{"measure": "business_days", "duration": 15, "extensions": [{"event": "holding_reply", "duration": 35}]}],
    )
    rule_key: str | None = Field(None, max_length=64, examples=["psd2_de"])
    rule_version: int | None = Field(None, ge=1, description="Without it: the version valid on the day of receipt.")
    received_at: AwareDatetime = Field(description="When the organisation received the complaint, with its UTC offset.")
    jurisdiction: str | None = Field(
        None, max_length=32, examples=["DE-BY"], description="ISO 3166-2; default: the organisation's."
    )
    time_zone: str | None = Field(None, max_length=64, examples=["Europe/Berlin"])
    pauses: list[PauseIn] = Field(default_factory=list, max_length=100)
    closures: list[dict[str, Any]] | None = Field(
        None, max_length=400, description='[{"date": "2026-12-24"} or {"recurring": "12-31"}]; default: the organisation\'s.'
    )
    extensions: list[ExtensionIn] = Field(default_factory=list, max_length=10)
    settings: dict[str, Any] | None = Field(
        None,
        description="non_business_day_receipt, cut_off, due_time, pause_end_day, business_hours; default: the organisation's.",
    )


class RuleRef(Schema):
    key: str
    version: int
    name_de: str
    name_en: str
    legal_basis: str


class ComputeOut(Schema):
    due_at: dt.datetime | None
    warn_at: dt.datetime | None
    rule: RuleRef | None
    explanation: dict[str, Any]
    steps: list[str]


class RuleOut(Schema):
    key: str
    version: int
    name_de: str
    name_en: str
    legal_basis: str
    country: str
    valid_from: dt.date
    valid_to: dt.date | None
    measure: Measure
    duration: int


def _ref(version: selectors.RuleVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "key": version.key,
        "version": version.version,
        "name_de": version.name_de,
        "name_en": version.name_en,
        "legal_basis": version.legal_basis,
    }


@router.post("/deadlines/compute", response={200: ComputeOut, **ERRORS}, summary="Compute a due time and explain it")
def compute(request: HttpRequest, payload: ComputeIn) -> Any:
    """Refuses (422, naming the field) a receipt time without offset, an unknown jurisdiction
    or time zone, a negative duration, a pause that ends before it starts, and a year the
    holiday data does not cover."""
    require_scope(request, "read")
    result, version = calculations.compute(
        rule=payload.rule,
        rule_key=payload.rule_key,
        rule_version=payload.rule_version,
        received_at=payload.received_at,
        jurisdiction=payload.jurisdiction,
        time_zone=payload.time_zone,
        pauses=[p.model_dump() for p in payload.pauses],
        closures=payload.closures,
        extensions=[e.model_dump() for e in payload.extensions],
        settings=payload.settings,
    )
    return {
        "due_at": result.due_at,
        "warn_at": result.warn_at,
        "rule": _ref(version),
        "explanation": result.explanation,
        "steps": result.steps,
    }


@router.get("/deadlines/rules", response={200: list[RuleOut], **ERRORS}, summary="Deadline rule versions")
def rules(request: HttpRequest) -> Any:
    require_scope(request, "read")
    return [
        {
            "key": v.key,
            "version": v.version,
            "name_de": v.name_de,
            "name_en": v.name_en,
            "legal_basis": v.legal_basis,
            "country": v.country,
            "valid_from": v.valid_from,
            "valid_to": v.valid_to,
            "measure": v.rule.measure,
            "duration": v.rule.duration,
        }
        for v in selectors.rule_versions()
    ]


class RuleVersionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=64, examples=["enwg_111a"])
    valid_from: dt.date = Field(
        description="First day of receipt the new version applies to; the previous version ends the day before."
    )
    parameters: dict[str, Any] = Field(examples=[{"measure": "weeks", "duration": 4, "end_roll": "bgb_193"}])
    name_de: str = Field("", max_length=200)
    name_en: str = Field("", max_length=200)
    legal_basis: str | None = Field(None, max_length=300)
    source_url: str | None = Field(None, max_length=500)
    country: Literal["", "DE", "GB"] | None = None


@router.post("/deadlines/rules", response={201: RuleOut, **ERRORS}, summary="Add a rule version (administrators)")
def create_rule_version(request: HttpRequest, payload: RuleVersionIn) -> Any:
    """A regulator changed a rule: the new version applies to complaints received from
    `valid_from` on, earlier clocks keep theirs. Parameters are validated like an inline rule."""
    require_scope(request, "admin")
    row = services.deadline_rule_version_create(actor=request.user, **payload.model_dump())
    version = selectors.rule_version(row.key, row.version)
    assert version is not None
    return 201, {
        "key": version.key, "version": version.version, "name_de": version.name_de, "name_en": version.name_en,
        "legal_basis": version.legal_basis, "country": version.country, "valid_from": version.valid_from,
        "valid_to": version.valid_to, "measure": version.rule.measure, "duration": version.rule.duration,
    }  # fmt: skip
