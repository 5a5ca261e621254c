"""The case list's rows as HTML, built in Python.

A row rendered by the template cost about 0.7 ms (two `{% url %}`, five date filters, a
`blocktranslate`, the tag loop, some 60 variable lookups): 25 rows were two thirds of the
list page's time. Built here, the same markup costs a fraction of that. Every value is
escaped with `escape`; the structure is the template's as it was."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .models import Priority

MUTED_DASH = '<span class="muted">—</span>'
# Django format characters that strftime writes the same way (zero-padded numbers only).
STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y", "H": "%H", "i": "%M", "s": "%S"}


def escape(value: Any) -> str:
    """Django's `escape` without its lazy-string wrapper (which cost more than the escaping)."""
    return html.escape(str(value))


def date_formatter(django_format: str) -> Callable[[dt.datetime], str]:
    """A function that formats like `dateformat.format(value, django_format)`: through
    strftime when the format uses only zero-padded numbers and punctuation (the German and
    English short formats), else through Django (names of days and months, ordinals)."""
    if all(char in STRFTIME or not char.isalpha() for char in django_format) and "\\" not in django_format:
        pattern = "".join(STRFTIME.get(char, char.replace("%", "%%")) for char in django_format)
        return lambda value: value.strftime(pattern)
    return lambda value: dateformat.format(value, django_format)


@dataclass(frozen=True)
class RowLabels:
    """The column names every cell repeats as `data-label` (the phone layout shows them),
    translated once per page, not once per row."""

    select: str
    reference: str
    subject: str
    customer: str
    status: str
    priority: str
    team: str
    responsible: str
    received: str
    activity: str

    @classmethod
    def current(cls) -> RowLabels:
        return cls(
            select=_("Select"),
            reference=_("Reference"),
            subject=_("Subject"),
            customer=_("Customer"),
            status=_("Status"),
            priority=_("Priority"),
            team=_("Team"),
            responsible=_("Responsible"),
            received=_("Received"),
            activity=_("Last activity"),
        )


def rows_html(cases: list[Any], *, can_edit: bool) -> list[SafeString]:
    """One `<tr>` per case (the view has set `status_label`, `deadline_mark` and
    `conversation` on each)."""
    labels = RowLabels.current()
    page = _Page(
        labels=labels,
        # Reversed once: every case's address differs only in its id.
        url_pattern=reverse("cases:detail", args=[0]).replace("/0/", "/{}/"),
        badges={"overdue": ("badge-danger", _("Overdue")), "at_risk": ("badge-warn", _("At risk"))},
        date_format=date_formatter(str(get_format("SHORT_DATE_FORMAT"))),
        datetime_format=date_formatter(str(get_format("SHORT_DATETIME_FORMAT"))),
        zone=timezone.get_current_timezone(),
        priorities={value: str(label) for value, label in Priority.choices},
        can_edit=can_edit,
        select_label=_("Select %(ref)s"),
    )
    return [_row(case, page) for case in cases]


@dataclass(frozen=True)
class _Page:
    """What every row of one page shares, worked out once."""

    labels: RowLabels
    url_pattern: str
    badges: dict[str, tuple[str, str]]
    date_format: Callable[[dt.datetime], str]
    datetime_format: Callable[[dt.datetime], str]
    zone: dt.tzinfo
    priorities: dict[int, str]
    can_edit: bool
    select_label: str


def _row(case: Any, page: _Page) -> SafeString:
    # Plain f-strings with every value through `escape`: format_html per cell cost more
    # than the rest of the row together.
    labels = page.labels
    url = page.url_pattern.format(case.pk)
    cells = []
    if page.can_edit:
        cells.append(
            f'<td class="select-col" data-label="{escape(labels.select)}"><input type="checkbox" name="ids" '
            f'value="{case.pk}" aria-label="{escape(page.select_label % {"ref": case.reference})}"></td>'
        )
    reference = escape(case.reference)
    cells.append(f'<td data-label="{escape(labels.reference)}" class="nowrap"><a href="{url}">{reference}</a></td>')
    cells.append(_subject_cell(case, labels, url))
    customer = escape(case.customer.display_name) if case.customer_id and case.customer else MUTED_DASH
    cells.append(f'<td data-label="{escape(labels.customer)}" class="customer-cell">{customer}</td>')
    cells.append(_status_cell(case, page))
    cells.append(
        f'<td data-label="{escape(labels.priority)}"><span class="priority priority-{int(case.priority)}">'
        f"{escape(page.priorities.get(case.priority, case.priority))}</span></td>"
    )
    # Two facts share a column (the list fits 1,280 px): who and which team; received and last activity.
    responsible = (
        f'<span class="fact">{escape(case.responsible_user.full_name)}</span>'
        if case.responsible_user_id and case.responsible_user
        else '<span class="fact muted">—</span>'
    )
    team = escape(case.team.name) if case.team_id and case.team else "—"
    cells.append(
        f'<td data-label="{escape(labels.responsible)} · {escape(labels.team)}" class="two-facts"><div>{responsible}'
        f' <span class="fact-sub" title="{escape(labels.team)}">{team}</span></div></td>'
    )
    activity = _when(case.last_activity_at, page, muted_time=False) if case.last_activity_at else "—"
    cells.append(
        f'<td data-label="{escape(labels.received)} · {escape(labels.activity)}" class="received-cell two-facts"><div>'
        f'{_when(case.received_at, page, css="fact")} <span class="fact-sub" title="{escape(labels.activity)}">{activity}'
        "</span></div></td>"
    )
    return mark_safe("<tr>" + "".join(cells) + "</tr>")  # noqa: S308 - every value above went through escape


def _subject_cell(case: Any, labels: RowLabels, url: str) -> str:
    kind = ""
    if case.case_type_id and case.case_type:
        kind = case.case_type.label + (f" · {case.category.label}" if case.category_id and case.category else "")
    tags = "".join(f'<span class="badge badge-muted">{escape(tag.name)}</span>' for tag in case.tags.all())
    subject = escape(case.subject)
    return (
        f'<td data-label="{escape(labels.subject)}" class="subject-cell"><div><a href="{url}" class="subject-link" '
        f'title="{subject}">{subject}</a> <span class="muted small">{escape(kind)} {tags}</span></div></td>'
    )


def _status_cell(case: Any, page: _Page) -> str:
    parts = [f'<span class="badge status-{escape(case.status_kind)}">{escape(case.status_label)}</span>']
    badge = page.badges.get(getattr(case, "deadline_mark", ""))
    if badge is not None:
        due = page.datetime_format(case.next_due_at.astimezone(page.zone))
        parts.append(f' <span class="badge {badge[0]}" title="{escape(due)}">{escape(badge[1])}</span>')
    conversation = getattr(case, "conversation", None)
    if conversation:
        at = conversation["at"].astimezone(page.zone)
        parts.append(
            f' <span class="conversation conversation-{escape(conversation["kind"])}">{escape(conversation["label"])} '
            f'<time datetime="{at.isoformat()}">{escape(page.datetime_format(at))}</time></span>'
        )
    return f'<td data-label="{escape(page.labels.status)}"><div>{"".join(parts)}</div></td>'


def _when(value: dt.datetime, page: _Page, *, css: str = "", muted_time: bool = True) -> str:
    local = value.astimezone(page.zone)
    time = f'<span class="muted">{local:%H:%M}</span>' if muted_time else f"{local:%H:%M}"
    css_attribute = f' class="{css}"' if css else ""
    return f'<time{css_attribute} datetime="{local.isoformat()}">{escape(page.date_format(local))} {time}</time>'
