"""Background and periodic tasks of the cases app: the deadline escalation job."""

from __future__ import annotations

import datetime as dt

from leitplanke.core.background import background_task
from leitplanke.core.scheduler import periodic


@periodic(interval=dt.timedelta(minutes=1))
@background_task(max_attempts=1)
def escalate_deadlines() -> dict[str, int]:
    from .clock_services import escalate_due_clocks

    return escalate_due_clocks()


@background_task(max_attempts=5)
def send_deadline_mail(*, user_id: int, case_id: int, clock_id: int, threshold: str) -> None:
    """Tells a user, in their language, that a deadline on a case reached its warning or
    passed its due time."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import timezone, translation
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    from leitplanke.accounts.models import User

    from .models import Case, CaseClock

    user = User.objects.filter(pk=user_id, is_active=True).first()
    clock = CaseClock.objects.filter(pk=clock_id, case_id=case_id).select_related("case", "rule").first()
    if user is None or clock is None:
        return
    case: Case = clock.case
    with translation.override(user.language or "de"):
        name = clock.rule.name_de if (user.language or "de") == "de" else clock.rule.name_en
        due = date_format(timezone.localtime(clock.due_at), "SHORT_DATETIME_FORMAT") if clock.due_at else "—"
        if threshold == "warning":
            subject = _("Deadline approaching on %(ref)s") % {"ref": case.reference}
            body = _("The deadline “%(name)s” on case %(ref)s (%(subject)s) is due on %(due)s.")
        else:
            subject = _("Deadline passed on %(ref)s") % {"ref": case.reference}
            body = _("The deadline “%(name)s” on case %(ref)s (%(subject)s) was due on %(due)s and has passed.")
        body = body % {"name": name, "ref": case.reference, "subject": case.subject, "due": due}
        send_mail(subject, body, getattr(settings, "DEFAULT_FROM_EMAIL", None), [user.email])


@background_task(max_attempts=5)
def send_escalation_mail(
    *, user_id: int, case_id: int, level: int, reason: str = "", assigned: bool = False, handles: bool = True
) -> None:
    """Tells a user who handles an escalation level, in their language, that a case was
    escalated to it (by the deadline job or by hand, with the reason given); `assigned`:
    the level's `assign_to` made them the case's responsible person (`handles`: they also
    handle the level)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from leitplanke.accounts.models import User

    from .models import Case

    user = User.objects.filter(pk=user_id, is_active=True).first()
    case = Case.objects.filter(pk=case_id).first()
    if user is None or case is None:
        return
    with translation.override(user.language or "de"):
        subject = _("Case %(ref)s escalated to level %(level)s") % {"ref": case.reference, "level": level}
        facts = {"ref": case.reference, "subject": case.subject, "level": level}
        if handles:
            body = _("Case %(ref)s (%(subject)s) was escalated to level %(level)s, which you handle.") % facts
            if assigned:
                body += " " + _("You are now responsible for the case.")
        else:
            body = _("Case %(ref)s (%(subject)s) was escalated to level %(level)s and assigned to you.") % facts
        if reason:
            body += "\n\n" + _("Reason: %(reason)s") % {"reason": reason}
        send_mail(subject, body, getattr(settings, "DEFAULT_FROM_EMAIL", None), [user.email])
