"""Settings → Deadlines: administrators set the organisation's choices; they apply to the
next computation; bad input is a form error that keeps what was typed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from leitplanke.core.models import AuditEvent
from leitplanke.deadlines.models import DeadlineSettings

pytestmark = pytest.mark.django_db
URL = "/settings/deadlines/"

VALID = {
    "non_business_day_receipt": "next_business_day",
    "cut_off": "16:00",
    "due_time": "close_of_business",
    "pause_end_day": "not_counted",
    "closures": "12-24 Heiligabend\n2026-05-15 Brückentag",
    "hours_mon": "08:00-18:00", "hours_tue": "09:00-17:00", "hours_wed": "09:00-17:00",
    "hours_thu": "09:00-17:00", "hours_fri": "09:00-15:00", "hours_sat": "", "hours_sun": "",
}  # fmt: skip


def test_an_administrator_saves_the_choices_and_they_apply(admin_user, agent_user, client_for, api_client_for):
    client = client_for(admin_user)
    page = client.get(URL)
    assert page.status_code == 200 and "psd2_de" in page.content.decode()
    response = client.post(URL, VALID)
    assert response.status_code == 302, response.content.decode()[:2000]
    row = DeadlineSettings.objects.get(pk=1)
    assert row.cut_off == dt.time(16) and row.due_time == "close_of_business"
    assert row.closures == [{"recurring": "12-24", "label": "Heiligabend"}, {"date": "2026-05-15", "label": "Brückentag"}]
    assert row.business_hours["fri"] == ["09:00", "15:00"] and row.business_hours["sat"] is None
    assert AuditEvent.objects.filter(action="deadline_settings.update").exists()
    # the next computation uses them: received Friday 16:30 after the cut-off → Monday is the
    # day of receipt, so one business day ends Tuesday at close of business (17:00)
    body = {"rule": {"measure": "business_days", "duration": 1}, "received_at": "2026-01-09T16:30:00+01:00"}
    result = (
        api_client_for(agent_user).post("/api/v1/deadlines/compute", json.dumps(body), content_type="application/json").json()
    )
    assert result["due_at"] == "2026-01-13T17:00:00+01:00"
    assert result["explanation"]["receipt"]["reason"] == "after_cut_off"


@pytest.mark.parametrize(
    ("change", "field"),
    [({"closures": "24.12. Heiligabend"}, "closures"), ({"closures": "02-30 nie"}, "closures"),
     ({"hours_mon": "9 to 5"}, "hours_mon"), ({"hours_mon": "17:00-09:00"}, "mon"), ({"cut_off": "25:00"}, "cut_off")],
)  # fmt: skip
def test_bad_input_is_a_form_error(admin_user, client_for, change, field):
    response = client_for(admin_user).post(URL, {**VALID, **change})
    assert response.status_code == 400
    assert DeadlineSettings.objects.get(pk=1).cut_off is None  # nothing stored


def test_agents_may_not_change_the_settings(agent_user, client_for):
    assert client_for(agent_user).get(URL).status_code == 403
    assert client_for(agent_user).post(URL, VALID).status_code == 403
