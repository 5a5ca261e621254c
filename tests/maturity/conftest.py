"""Answer sets and helpers for the maturity tests."""

from __future__ import annotations

import re
from typing import Any

import pytest

from leitplanke.maturity.engine.model import QUESTION_KEYS


def answers_at(level: int, **overrides: int) -> dict[str, int]:
    """Every question answered at one level; keyword overrides use '__' for the dot."""
    answers = dict.fromkeys(QUESTION_KEYS, level)
    answers.update({key.replace("__", "."): value for key, value in overrides.items()})
    return answers


def token_of(url: str) -> str:
    match = re.search(r"/check/r/([^/]+)/", url)
    assert match, url
    return match.group(1)


def take_public_check(client: Any, answers: dict[str, int]) -> str:
    """Starts the public check, answers page by page and completes it; returns the token."""
    from leitplanke.maturity.engine.model import DIMENSION_KEYS, questions_of

    response = client.post("/check/")
    assert response.status_code == 302, response
    token = token_of(response["Location"])
    for number, dimension in enumerate(DIMENSION_KEYS, start=1):
        data = {f"q-{q.key}": answers[q.key] for q in questions_of(dimension) if q.key in answers}
        response = client.post(f"/check/r/{token}/page/{number}/", {**data, "go": "next"})
        assert response.status_code == 302, response.content[:500]
    response = client.post(f"/check/r/{token}/review/")
    assert response.status_code in (302, 400)
    return token


@pytest.fixture
def public_check(client: Any) -> Any:
    def take(answers: dict[str, int]) -> str:
        return take_public_check(client, answers)

    return take
