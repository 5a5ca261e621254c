"""POST /api/v1/deadlines/compute: due time, warning and explanation; every refusal is a
422 problem naming the field."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/deadlines/compute"


@pytest.fixture
def api(agent_user, api_client_for):
    client = api_client_for(agent_user, scopes=("read",))

    def post(body, **extra):
        return client.post(URL, data=json.dumps(body), content_type="application/json", **extra)

    return post


def test_a_shipped_rule_by_key(api):
    response = api({"rule_key": "psd2_de", "received_at": "2026-04-02T10:00:00+02:00", "jurisdiction": "DE-NW"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["due_at"].startswith("2026-04-27T23:59:59.999")
    assert body["rule"]["key"] == "psd2_de" and body["rule"]["version"] == 1
    assert body["explanation"]["rule"]["source"] == "ZAG § 62 (Art. 101 PSD2)"
    assert body["explanation"]["day_one"] == "2026-04-07"
    assert any("Good Friday" in step for step in body["steps"])


def test_an_inline_rule_with_pauses_closures_and_an_extension(api):
    response = api(
        {
            "rule": {"measure": "business_days", "duration": 15, "pauses_stop": True,
                     "extensions": [{"event": "holding_reply", "duration": 35}]},
            "received_at": "2026-04-02T10:00:00+02:00",
            "jurisdiction": "DE-BY",
            "time_zone": "Europe/Berlin",
            "closures": [{"date": "2026-05-15", "label": "Brückentag"}],
            "pauses": [{"start": "2026-04-14T00:00:00+02:00", "end": "2026-04-15T00:00:00+02:00", "reason": "customer asked"}],
            "extensions": [{"event": "holding_reply", "at": "2026-04-20T09:00:00+02:00"}],
        }
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    # 35 business days in Bavaria (Corpus Christi 4 June not reached), minus closure and pause day
    assert body["due_at"].startswith("2026-06-01")
    reasons = {s["date"]: s["reason"] for s in body["explanation"]["skipped"]}
    assert reasons["2026-05-15"] == "closure" and reasons["2026-04-14"] == "pause"
    assert body["explanation"]["extension"]["applied"] is True


def test_the_organisation_calendar_is_the_default(api):
    """The organisation's calendar region (DE-NW by default) and time zone apply when none is given."""
    response = api({"rule": {"measure": "business_days", "duration": 1}, "received_at": "2026-06-03T10:00:00+02:00"})
    assert response.json()["explanation"]["calendar"]["jurisdiction"] == "DE-NW"
    assert response.json()["due_at"].startswith("2026-06-05")  # Corpus Christi in NRW


def test_a_uk_rule_counts_in_a_uk_calendar_at_a_german_organisation(api):
    response = api({"rule_key": "fca_disp_summary", "received_at": "2026-03-27T10:00:00+00:00"})
    body = response.json()
    assert body["explanation"]["calendar"]["jurisdiction"] == "GB-ENG"
    assert body["due_at"] == "2026-04-01T17:00:00+01:00"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"received_at": "2026-04-02T10:00:00"}, "/received_at"),
        ({"jurisdiction": "DE-XX"}, "/jurisdiction"),
        ({"jurisdiction": "GB"}, "/jurisdiction"),
        ({"time_zone": "Europe/Nowhere"}, "/time_zone"),
        ({"rule": {"measure": "business_days", "duration": -3}}, "/rule/duration"),
        ({"rule": {"measure": "fortnights", "duration": 3}}, "/rule/measure"),
        ({"pauses": [{"start": "2026-04-10T00:00:00+02:00", "end": "2026-04-09T00:00:00+02:00"}]}, "/pauses/0"),
        ({"pauses": [{"start": "2026-04-10T00:00:00", "end": "2026-04-11T00:00:00+02:00"}]}, "/pauses/0/start"),
        ({"received_at": "2101-01-03T10:00:00+01:00"}, "/received_at"),
        ({"received_at": "1985-01-03T10:00:00+01:00"}, "/received_at"),
        ({"closures": [{"recurring": "13-40"}]}, "/closures/0/recurring"),
        ({"extensions": [{"event": "nonsense", "at": "2026-04-03T10:00:00+02:00"}]}, "/extensions/0/event"),
        ({"settings": {"due_time": "tea_time"}}, "/settings/due_time"),
        ({"rule_key": "psd2_de"}, "/rule"),
    ],
)
def test_refusals_are_422_problems_naming_the_field(api, change, pointer):
    body = {"rule": {"measure": "business_days", "duration": 15}, "received_at": "2026-04-02T10:00:00+02:00", **change}
    response = api(body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert pointer in [e["pointer"] for e in problem["errors"]], problem


def test_an_unknown_rule_key_is_refused(api):
    response = api({"rule_key": "nope", "received_at": "2026-04-02T10:00:00+02:00"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/rule_key"


def test_errors_speak_german_on_request(api):
    response = api({"rule": {"measure": "business_days", "duration": -1}, "received_at": "2026-04-02T10:00:00+02:00"},
                   HTTP_ACCEPT_LANGUAGE="de")  # fmt: skip
    assert "Dauer" in response.json()["errors"][0]["detail"]


def test_compute_needs_authentication(client):
    response = client.post(URL, data="{}", content_type="application/json")
    assert response.status_code == 401


def test_rules_are_listed(agent_user, api_client_for):
    response = api_client_for(agent_user, scopes=("read",)).get("/api/v1/deadlines/rules")
    keys = {r["key"] for r in response.json()}
    assert {"psd2_de", "psd2_uk", "fca_disp_final", "fca_disp_summary", "enwg_111a", "gdpr_12_3"} <= keys


def test_an_administrator_adds_a_rule_version_that_applies_from_its_day(admin_user, agent_user, api_client_for):
    admin = api_client_for(admin_user, scopes=("read", "write", "admin"))
    body = {
        "key": "enwg_111a",
        "valid_from": "2027-01-01",
        "parameters": {"measure": "weeks", "duration": 2, "end_roll": "bgb_193"},
    }
    response = admin.post("/api/v1/deadlines/rules", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2 and response.json()["name_en"].startswith("Energy complaint")
    rules = {(r["key"], r["version"]): r for r in admin.get("/api/v1/deadlines/rules").json()}
    assert rules[("enwg_111a", 1)]["valid_to"] == "2026-12-31"
    compute = api_client_for(agent_user)

    def due(received):
        payload = {"rule_key": "enwg_111a", "received_at": received, "jurisdiction": "DE-NW"}
        return compute.post(URL, json.dumps(payload), content_type="application/json").json()

    assert due("2026-12-30T10:00:00+01:00")["rule"]["version"] == 1
    later = due("2027-01-04T10:00:00+01:00")
    assert later["rule"]["version"] == 2 and later["due_at"].startswith("2027-01-18")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            {"key": "enwg_111a", "valid_from": "2027-01-01", "parameters": {"measure": "weeks", "duration": -2}},
            "/parameters/duration",
        ),
        ({"key": "enwg_111a", "valid_from": "2010-01-01", "parameters": {"measure": "weeks", "duration": 2}}, "/valid_from"),
        ({"key": "Neu!", "valid_from": "2027-01-01", "parameters": {"measure": "weeks", "duration": 2}}, "/key"),
        ({"key": "brand_new", "valid_from": "2027-01-01", "parameters": {"measure": "weeks", "duration": 2}}, "/name_en"),
    ],
)
def test_bad_rule_versions_are_refused(admin_user, api_client_for, body, pointer):
    admin = api_client_for(admin_user, scopes=("read", "write", "admin"))
    response = admin.post("/api/v1/deadlines/rules", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_only_administrators_add_rule_versions(agent_user, api_client_for):
    body = {"key": "enwg_111a", "valid_from": "2027-01-01", "parameters": {"measure": "weeks", "duration": 2}}
    response = api_client_for(agent_user).post("/api/v1/deadlines/rules", json.dumps(body), content_type="application/json")
    assert response.status_code == 403
