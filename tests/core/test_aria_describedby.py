"""Issue 23, task 8: every `aria-describedby` on every page points at an element that exists
(Django adds `aria-describedby="<id>_helptext"` to a field with help text; the shared field
includes render the help under that id). Walks every GET page without parameters and every
page with an id of an object that exists, as an administrator and in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

SKIP = re.compile(r"^(api/|accounts/logout|i18n/|healthz|readyz|static/|media/|.*export|.*download|.*raw|.*\.pdf|.*\.csv)")


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if values.get("aria-describedby"):
            for ref in str(values["aria-describedby"]).split():
                self.described.append((f"<{tag} name={values.get('name')!r}>", ref))


def _patterns(resolver: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            out.extend(_patterns(entry, prefix + str(entry.pattern)))
        elif isinstance(entry, URLPattern):
            out.append((prefix + str(entry.pattern), entry))
    return out


def _dangling(html: str) -> list[str]:
    parser = _Ids()
    parser.feed(html)
    return [f"{element} → #{ref}" for element, ref in parser.described if ref not in parser.ids]


@pytest.fixture
def objects(admin_user: Any, settings: Any, tmp_path: Any) -> dict[str, int]:
    from leitplanke.accounts.models import Team
    from leitplanke.cases import services
    from leitplanke.customers import services as customers
    from leitplanke.intake.models import ReplyTemplate

    settings.MEDIA_ROOT = tmp_path
    team = Team.objects.create(name="Team Rhein")
    customer = customers.customer_create(actor=admin_user, first_name="Erika", last_name="Muster", emails=["e@example.org"])
    case = services.case_create(
        actor=admin_user, team=team, case_type="complaint", subject="S", channel="email", customer=customer
    )
    return {
        "case_id": case.pk,
        "customer_id": customer.pk,
        "team_id": team.pk,
        "user_id": admin_user.pk,
        "template_id": ReplyTemplate.objects.first().pk,  # type: ignore[union-attr]
    }


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_aria_describedby_points_at_an_existing_element(
    admin_user: Any, client_for: Callable[..., Any], objects: dict[str, int], language: str
) -> None:
    from leitplanke.accounts.models import User

    User.objects.filter(pk=admin_user.pk).update(language=language)
    client = client_for(admin_user)
    checked, problems = 0, []
    for route, _entry in _patterns(get_resolver()):
        if SKIP.match(route):
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if any(name not in objects for name in names):
            continue
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(objects[m.group(1)]), route)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        checked += 1
        problems.extend(f"{url}: {problem}" for problem in _dangling(response.content.decode()))
    # the composer and the new-case form with their htmx parts
    for url in (f"/intake/cases/{objects['case_id']}/composer/", "/cases/new/customers/?customer_query=Mu"):
        problems.extend(
            f"{url}: {problem}" for problem in _dangling(client.get(url, headers={"HX-Request": "true"}).content.decode())
        )
    assert checked >= 40, checked
    assert not problems, "\n".join(problems[:40])


def test_api_validation_messages_and_export_headers_in_german(
    make_user: Callable[..., Any], api_client_for: Callable[..., Any], client_for: Callable[..., Any]
) -> None:
    """Technical texts follow the language: pydantic's messages and the export's column titles."""
    import json

    lead = make_user("team_lead")
    client = api_client_for(lead)
    response = client.post(
        "/api/v1/customers",
        json.dumps({"last_name": "X" * 300, "preferred_language": "fr"}),
        content_type="application/json",
        headers={"Accept-Language": "de"},
    )
    assert response.status_code == 422
    details = " ".join(error["detail"] for error in response.json()["errors"])
    assert "Höchstens 100 Zeichen" in details and "Wählen Sie eine der Möglichkeiten" in details, details
    from leitplanke.accounts.models import User

    quality = make_user("quality_manager")
    User.objects.filter(pk=quality.pk).update(language="de")
    export = client_for(quality).get("/cases/export.csv")
    first_line = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert first_line.startswith("Aktenzeichen,Betreff"), first_line
