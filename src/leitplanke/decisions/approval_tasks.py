"""Background and periodic tasks of approvals: the e-mails and the reminder job."""

from __future__ import annotations

import datetime as dt

from leitplanke.core.background import background_task
from leitplanke.core.scheduler import periodic


@periodic(interval=dt.timedelta(minutes=15))
@background_task(max_attempts=1)
def remind_overdue_approvals() -> dict[str, int]:
    """Reminds approvers of overdue requests and passes those of absent approvers on."""
    from .approval_services import approvals_remind

    return approvals_remind()


@background_task(max_attempts=5)
def send_approval_mail(*, user_id: int, approval_id: int, event: str) -> None:
    """Tells a user, in their language, that an approval is asked of them (`requested`), is
    overdue (`reminder`) or that their decision was approved, rejected or sent back
    (`decided`)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import timezone, translation
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    from leitplanke.accounts.models import User

    from .models import ApprovalRequest

    user = User.objects.filter(pk=user_id, is_active=True).first()
    approval = ApprovalRequest.objects.filter(pk=approval_id).select_related("record", "record__case").first()
    if user is None or approval is None:
        return
    record = approval.record
    case = record.case
    with translation.override(user.language or "de"):
        facts = {
            "ref": case.reference,
            "subject": case.subject,
            "amount": f"{record.amount:.2f}",
            "currency": record.currency,
            "kind": record.get_kind_display(),
            "due": date_format(timezone.localtime(approval.due_at), "SHORT_DATETIME_FORMAT"),
            "status": approval.get_status_display(),
            "comment": approval.comment,
        }
        if event == "requested":
            subject = _("Approval requested on %(ref)s") % facts
            body = (
                _(
                    "A decision on case %(ref)s (%(subject)s) needs your approval: %(kind)s %(amount)s %(currency)s. "
                    "Please decide by %(due)s."
                )
                % facts
            )
        elif event == "reminder":
            subject = _("Approval overdue on %(ref)s") % facts
            body = (
                _(
                    "The approval of a decision on case %(ref)s (%(subject)s), %(kind)s %(amount)s %(currency)s, "
                    "was due on %(due)s."
                )
                % facts
            )
        else:
            subject = _("Your decision on %(ref)s: %(status)s") % facts
            body = _("Your decision on case %(ref)s (%(subject)s), %(kind)s %(amount)s %(currency)s: %(status)s.") % facts
            if approval.comment:
                body += "\n\n" + approval.comment
        send_mail(subject, body, getattr(settings, "DEFAULT_FROM_EMAIL", None), [user.email])
