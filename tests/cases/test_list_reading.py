"""Issue 23, task 7: the list says who waits for whom; English dates are day first, 24 h."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import formats, translation

from leitplanke.cases import services
from leitplanke.cases.models import Case


def test_english_dates_are_european() -> None:
    moment = dt.datetime(2026, 12, 1, 14, 5)
    with translation.override("en"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "01 Dec 2026 14:05"
        assert formats.date_format(moment, "DATE_FORMAT") == "1 December 2026"
    with translation.override("de"):
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "01.12.2026 14:05"


def test_list_shows_customer_replied_waiting_since_and_last_activity(
    make_user: Callable[..., Any], make_case: Callable[..., Case], team_a: Any, client_for: Callable[..., Any]
) -> None:
    lead = make_user("team_lead", teams=[team_a])
    unanswered, replied, waiting, quiet = (make_case(team=team_a, subject=f"Fall {n}") for n in range(4))
    services.interaction_add(actor=None, case=unanswered, kind="inbound_message", body_text="Hallo?", channel="email")
    services.interaction_add(actor=lead, case=replied, kind="outbound_message", body_text="Antwort", channel="email")
    services.interaction_add(actor=None, case=replied, kind="inbound_message", body_text="Danke, aber…", channel="email")
    services.interaction_add(actor=lead, case=waiting, kind="outbound_message", body_text="Bitte Zählerfoto", channel="email")
    services.case_transition(actor=lead, case=waiting, transition="wait")
    response = client_for(lead).get("/cases/")
    notes = {case.pk: case.conversation for case in response.context["page"].items}
    assert notes[unanswered.pk]["kind"] == "unanswered"
    assert notes[replied.pk]["kind"] == "replied"
    assert notes[waiting.pk]["kind"] == "waiting"
    assert notes[quiet.pk] is None
    html = response.content.decode()
    assert "Customer waiting since" in html and "Customer replied" in html and "Waiting for the customer since" in html
    assert "Last activity" in html
