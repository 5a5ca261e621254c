"""Background work of decision records: telling the decider that a lead reversed a decision."""

from __future__ import annotations

from leitplanke.core.background import background_task


@background_task(max_attempts=5)
def send_reversal_mail(*, reversal_id: int) -> None:
    """Tells the decider of the reversed decision, in their language, who reversed it and why."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from .models import DecisionRecord

    reversal = DecisionRecord.objects.filter(pk=reversal_id).select_related("case", "decided_by", "refers_to__decided_by").first()
    if reversal is None or reversal.refers_to is None:
        return
    decider = reversal.refers_to.decided_by
    if not decider.is_active or not decider.email:
        return
    case = reversal.case
    with translation.override(decider.language or "de"):
        facts = {
            "ref": case.reference,
            "subject": case.subject,
            "lead": reversal.decided_by.full_name or reversal.decided_by.email,
            "old": f"{reversal.refers_to.amount} {reversal.refers_to.currency}",
            "new": f"{reversal.amount} {reversal.currency}",
        }
        subject = _("Your decision on %(ref)s was reversed") % facts
        body = _("%(lead)s reversed your decision on case %(ref)s (%(subject)s): %(old)s became %(new)s.") % facts
        body += "\n\n" + _("Justification: %(justification)s") % {"justification": reversal.justification}
        send_mail(subject, body, getattr(settings, "DEFAULT_FROM_EMAIL", None), [decider.email])
