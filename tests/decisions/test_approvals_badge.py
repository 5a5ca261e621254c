"""The approvals badge in the navigation (count, accessible label in both languages, one
query that does not grow) and the pending approval's due time on the case's decision panel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leitplanke.accounts import services as account_services
from leitplanke.accounts.models import Team
from leitplanke.decisions import approval_services
from leitplanke.decisions.models import ApprovalRequest, RecordStatus

from .conftest import make_record


def _pending(setup, n=1, amount=250):
    out = []
    for _ in range(n):
        record = make_record(setup["case"], setup["agent"], amount, status=RecordStatus.PENDING)
        out.append(approval_services.approval_request_open(record=record, reasons=["above_authority"], actor=setup["agent"]))
    return out


def _nav(html: str) -> str:
    return html.split('id="main-nav"')[1].split("</nav>")[0]


def _approval_queries(client, url="/"):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries if "decisions_approvalrequest" in q["sql"]]


def test_the_lead_sees_how_many_approvals_wait_with_a_label_for_screen_readers(setup, client_for):
    _pending(setup, 2)
    response, counted = _approval_queries(client_for(setup["lead"]))
    nav = _nav(response.content.decode())
    assert 'href="/decisions/approvals/"' in nav
    assert '<span class="nav-count" aria-hidden="true">2</span>' in nav
    assert '<span class="visually-hidden">(2 decisions wait for your approval)</span>' in nav
    assert len(counted) == 1  # one count, shared by the link and the folded menu's button


def test_the_label_is_german_and_singular_for_one(setup, make_user, client_for):
    setup["lead"].language = "de"
    setup["lead"].save(update_fields=["language"])
    _pending(setup, 1)
    html = client_for(setup["lead"]).get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "(1 Entscheidung wartet auf Ihre Freigabe)" in _nav(html)


def test_the_count_query_stays_one_as_approvals_grow_and_stops_at_99_plus(setup, client_for):
    client = client_for(setup["lead"])
    _pending(setup, 1)
    client.get("/")  # warm: reference data cached as in a running server
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    _pending(setup, 3)
    client.get("/")
    with CaptureQueriesContext(connection) as more:
        response = client.get("/")
    assert len(more.captured_queries) == len(few.captured_queries)
    assert '<span class="nav-count" aria-hidden="true">4</span>' in response.content.decode()
    # Many: counted up to 100 only, shown as "99+".
    _pending(setup, 96)
    html = client.get("/").content.decode()
    assert '<span class="nav-count" aria-hidden="true">99+</span>' in html


def test_nothing_waiting_shows_no_count(setup, client_for):
    response, counted = _approval_queries(client_for(setup["lead"]))
    nav = _nav(response.content.decode())
    assert "Approvals" in nav and "nav-count" not in nav
    assert len(counted) == 1


def test_an_agent_sees_no_approvals_and_pays_no_query(setup, client_for):
    _pending(setup, 1)
    response, counted = _approval_queries(client_for(setup["agent"]))
    assert "/decisions/approvals/" not in _nav(response.content.decode())
    assert counted == []


def test_an_htmx_fragment_does_not_count(setup, client_for):
    _pending(setup, 1)
    client = client_for(setup["lead"])
    url = f"/cases/{setup['case'].pk}/decisions/"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"] and "decisions_approvalrequest" in q["sql"]]


def test_a_team_lead_without_the_lead_role_is_asked_and_sees_the_inbox(setup, make_user, client_for):
    """Routing asks the lead of the team above whatever their role (here a quality manager):
    they see the badge and the inbox."""
    quality = make_user("quality_manager")
    assert client_for(quality).get("/decisions/approvals/").status_code == 403
    admin = make_user("administrator")
    upper = account_services.team_create(actor=admin, name="Complaints", lead=quality)
    account_services.team_update(actor=admin, team=Team.objects.get(pk=setup["team"].pk), parent=upper)
    from .conftest import user_limit

    user_limit(quality, 5000)
    (approval,) = _pending(setup, 1, amount=3000)
    assert approval.approver == quality
    client = client_for(quality)
    nav = _nav(client.get("/").content.decode())
    assert '<span class="nav-count" aria-hidden="true">1</span>' in nav
    assert client.get("/decisions/approvals/").status_code == 200


# --- the due time on the case --------------------------------------------------------------


def test_the_case_panel_shows_approver_and_due_time_in_the_organisations_zone(setup, client_for):
    (approval,) = _pending(setup, 1)
    due = dt.datetime(2026, 12, 8, 9, 30, tzinfo=dt.UTC)  # 10:30 in Berlin
    ApprovalRequest.objects.filter(pk=approval.pk).update(due_at=due)
    html = client_for(setup["agent"]).get(f"/cases/{setup['case'].pk}/decisions/", HTTP_HX_REQUEST="true").content.decode()
    assert f"Awaiting approval by {setup['lead'].full_name}" in html
    block = html.split('class="approval-due')[1].split("</p>")[0]
    assert "Approval due" in block and re.search(r"10:30", block), block
    assert "Overdue" not in block


def test_an_overdue_approval_says_so_in_german(setup, client_for):
    setup["agent"].language = "de"
    setup["agent"].save(update_fields=["language"])
    (approval,) = _pending(setup, 1)
    ApprovalRequest.objects.filter(pk=approval.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    html = (
        client_for(setup["agent"])
        .get(f"/cases/{setup['case'].pk}/decisions/", HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="de")
        .content.decode()
    )
    block = html.split('class="approval-due is-overdue')[1].split("</p>")[0]
    assert "Freigabe fällig" in block and "Überfällig" in block


@pytest.mark.parametrize("zone", ["Europe/London"])
def test_the_due_time_follows_the_organisation_time_zone(setup, client_for, zone):
    from leitplanke.accounts.models import Organisation

    Organisation.objects.update_or_create(pk=1, defaults={"time_zone": zone})
    (approval,) = _pending(setup, 1)
    ApprovalRequest.objects.filter(pk=approval.pk).update(due_at=dt.datetime(2026, 12, 8, 9, 30, tzinfo=dt.UTC))
    html = client_for(setup["agent"]).get(f"/cases/{setup['case'].pk}/decisions/", HTTP_HX_REQUEST="true").content.decode()
    block = html.split('class="approval-due')[1].split("</p>")[0]
    assert "9:30" in block, block


# --- the badge refreshes itself ------------------------------------------------------------


def test_the_badge_asks_for_its_count_again_every_minute(setup, client_for):
    """The navigation's badge is an htmx poll of its own fragment (no script of ours: CSP)."""
    html = client_for(setup["lead"]).get("/").content.decode()
    badge = html.split('id="approvals-badge"')[1].split(">")[0]
    assert 'hx-get="/decisions/approvals/badge/"' in badge and 'hx-trigger="every 60s"' in badge
    assert 'hx-swap="outerHTML"' in badge
    assert html.count('id="approvals-badge"') == 1 and html.count('id="menu-approvals-badge"') == 1
    agent_html = client_for(setup["agent"]).get("/").content.decode()
    assert "approvals-badge" not in agent_html  # no poll for whoever is never asked


def test_the_fragment_gives_the_new_count_for_the_link_and_the_menu_button(setup, client_for):
    client = client_for(setup["lead"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/decisions/approvals/badge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert html.startswith('<span id="approvals-badge" hx-get="/decisions/approvals/badge/"')
    assert "nav-count" not in html and '<span id="menu-approvals-badge" hx-swap-oob="true"></span>' in html
    assert len([q for q in queries.captured_queries if "decisions_approvalrequest" in q["sql"]]) == 1
    _pending(setup, 2)
    html = client.get("/decisions/approvals/badge/", HTTP_HX_REQUEST="true").content.decode()
    main, menu = html.split('<span id="menu-approvals-badge" hx-swap-oob="true">')
    for part in (main, menu):
        assert '<span class="nav-count" aria-hidden="true">2</span>' in part
        assert "(2 decisions wait for your approval)" in part


def test_the_fragment_is_refused_without_the_login_page(setup, client_for, client):
    """Signed out (the session ended under an open page) or never asked to approve: 403,
    which htmx does not swap in — a redirect to the login page would be followed and shown
    inside the navigation."""
    assert client.get("/decisions/approvals/badge/").status_code == 403
    assert client_for(setup["agent"]).get("/decisions/approvals/badge/").status_code == 403
    assert client_for(setup["lead"]).post("/decisions/approvals/badge/").status_code == 405
