"""The pages of taking the check, shared by the public check (/check/, keyed by the resume
link) and the in-app check (/maturity/checks/<id>/): one page per dimension with a progress
bar, back and forward, a review that lists unanswered questions, and the result.

Everything works without JavaScript (plain forms, redirect after POST); htmx only swaps
the page body (hx-boost) so the next page appears without a full reload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language

from leitplanke.core.errors import ValidationFailed

from . import presentation, selectors, services
from .engine import scoring
from .engine.model import DIMENSION_KEYS, DIMENSIONS, QUESTION_KEYS, questions_of
from .links import LinkExpired

STEPS = len(DIMENSION_KEYS)


@dataclass
class Flow:
    """One answer set and how to reach its pages (public by link, in-app by id)."""

    assessment: Any
    url: Callable[..., str]  # url("step", n) / url("review") / url("result") / url("pdf")
    in_app: bool
    resume_url: str = ""  # the absolute link to continue later (public check)
    exit_url: str = ""  # where "back" from the first page leads


def language() -> str:
    return (get_language() or "de")[:2]


def first_open_step(answers: dict[str, Any]) -> int | None:
    for number, key in enumerate(DIMENSION_KEYS, start=1):
        if any(question.key not in answers for question in questions_of(key)):
            return number
    return None


def resume(flow: Flow) -> HttpResponse:
    """Where a resume link leads: the result, the first page with open questions, or the review."""
    if flow.assessment.is_complete:
        return redirect(flow.url("result"))
    step = first_open_step(flow.assessment.answers)
    return redirect(flow.url("step", step) if step else flow.url("review"))


def _steps(flow: Flow, current: int) -> list[dict[str, Any]]:
    answers = flow.assessment.answers
    lang = language()
    return [
        {
            "number": number,
            "name": DIMENSIONS[key].name.get(lang),
            "url": flow.url("step", number),
            "current": number == current,
            "done": all(question.key in answers for question in questions_of(key)),
        }
        for number, key in enumerate(DIMENSION_KEYS, start=1)
    ]


def _progress(answers: dict[str, Any]) -> dict[str, int]:
    answered = sum(1 for key in QUESTION_KEYS if key in answers)
    return {"answered": answered, "total": len(QUESTION_KEYS), "percent": round(answered * 100 / len(QUESTION_KEYS))}


def _render_step(
    request: HttpRequest, flow: Flow, number: int, answers: dict[str, Any], errors: Any, status: int
) -> HttpResponse:
    key = DIMENSION_KEYS[number - 1]
    lang = language()
    context = {
        "flow": flow,
        "number": number,
        "steps": _steps(flow, number),
        "step_count": STEPS,
        "dimension": {"key": key, "name": DIMENSIONS[key].name.get(lang), "question": DIMENSIONS[key].question.get(lang)},
        "questions": presentation.questions_view(key, answers, lang, errors),
        "progress": _progress(flow.assessment.answers),
        "back_url": flow.url("step", number - 1) if number > 1 else flow.exit_url,
        "has_errors": bool(errors),
    }
    return render(request, "maturity/check/step.html", context, status=status)


def _destination(flow: Flow, number: int, go: str) -> str:
    if go == "stay":  # htmx saved one answer: show the same page (its progress bar)
        return flow.url("step", number)
    if go == "back":
        return flow.url("step", number - 1) if number > 1 else flow.exit_url
    if go == "review" or (go == "next" and number >= STEPS):
        return flow.url("review")
    if go.startswith("step-") and go[5:].isdigit() and 1 <= int(go[5:]) <= STEPS:
        return flow.url("step", int(go[5:]))
    return flow.url("step", number + 1)


def step(request: HttpRequest, flow: Flow, number: int) -> HttpResponse:
    if not 1 <= number <= STEPS:
        raise Http404
    if flow.assessment.is_complete:
        return redirect(flow.url("result"))
    if request.method != "POST":
        return _render_step(request, flow, number, flow.assessment.answers, None, 200)
    posted = {name[2:]: value for name, value in request.POST.items() if name.startswith("q-") and value}
    try:
        flow.assessment = services.assessment_answer(assessment=flow.assessment, answers=posted)
    except services.AlreadyCompleted:
        return redirect(flow.url("result"))
    except ValidationFailed as error:
        shown = {**flow.assessment.answers, **{k: v for k, v in posted.items() if k not in error.field_errors}}
        return _render_step(request, flow, number, _as_levels(shown), error.field_errors, 400)
    return redirect(_destination(flow, number, request.POST.get("go", "next")))


def _as_levels(answers: dict[str, Any]) -> dict[str, Any]:
    return {key: int(value) for key, value in answers.items() if str(value).isdigit()}


def review(request: HttpRequest, flow: Flow) -> HttpResponse:
    if flow.assessment.is_complete:
        return redirect(flow.url("result"))
    status = 200
    if request.method == "POST":
        try:
            services.assessment_complete(assessment=flow.assessment)
        except services.Incomplete:
            status = 400
        else:
            return redirect(flow.url("result"))
    missing = scoring.missing_questions(flow.assessment.answers)
    context = {
        "flow": flow,
        "steps": _steps(flow, 0),
        "progress": _progress(flow.assessment.answers),
        "missing": [
            {"number": m.number, "text": m.text, "url": f"{flow.url('step', m.step)}#q-{m.key}"}
            for m in presentation.missing_view(missing, language())
        ],
        "back_url": flow.url("step", STEPS),
        "tried": status == 400,
    }
    return render(request, "maturity/check/review.html", context, status=status)


def result_view(flow: Flow) -> presentation.ResultView | None:
    """The result for display; None while the answer set is not complete."""
    if not flow.assessment.is_complete:
        return None
    return presentation.result_view(selectors.result_of(flow.assessment), selectors.recommendation_rules(), language())


def expired(request: HttpRequest, error: LinkExpired) -> HttpResponse:
    return render(request, "maturity/public/link_expired.html", {"message": error.message}, status=410)


def invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "maturity/public/link_invalid.html", status=404)
