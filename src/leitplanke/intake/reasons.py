"""What the intake tells people, in words and in their language.

The intake stores causes as stable codes (`InboundEmail.reason_code`, the parser's
`(code, params)` notes); these tables put them into words. Texts for the case timeline are
stored in both languages when the entry is written (`bilingual`), as status changes store
their labels, because the case page shows each reader their own language; the quarantine
and review screens translate the code when they are shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext_lazy as _

LANGUAGES = ("de", "en")

# Why a message is in the quarantine (it could not be processed) or held for review.
REASONS: dict[str, Any] = {
    "processing": _("Processing did not finish (the process stopped or is still running)."),
    "empty": _("The file is empty: there is no message in it."),
    "no_header": _("This is not an e-mail: the data does not start with e-mail headers."),
    "binary": _("This is not an e-mail: the headers contain binary data."),
    "no_known_header": _("This is not an e-mail: none of the usual headers (From, To, Subject, Date …) is present."),
    "parser_failed": _("The structure of the message could not be read."),
    "not_an_email": _("This is not an e-mail."),
    "parser_error": _("The message could not be read because of an error in Leitplanke; the details name it."),
    "no_case_type": _("No active case type exists: create one under Administration, then process the message again."),
    "invalid_data": _("The message's data could not be stored; the details name the field."),
    "internal_error": _("An unexpected error stopped the processing; the details name it."),
    "unknown_sender": _(
        "The subject names a case, but the sender is not known on that case (neither the customer's address nor an "
        "earlier correspondent). Accept it to add it to that case."
    ),
    "spam": _("The receiving mail server marked the message as spam or as failing sender authentication (DMARC)."),
}

# Notes on a case about parts of an e-mail (the parser's codes and the intake's own).
NOTES: dict[str, Any] = {
    "attachment_too_large": _("The attachment “%(name)s” (%(size)s) was not kept: it is larger than %(limit)s."),
    "too_many_attachments": _("The attachment “%(name)s” was not kept: a message may carry at most %(limit)s attachments."),
    "attachment_empty": _("The attachment “%(name)s” is empty and was not kept."),
    "attachment_refused": _("The attachment “%(name)s” was not kept: %(detail)s"),
    "attachment_download_only": _(
        "The attachment “%(name)s” may be harmful (a program, a script or an unknown type): it is kept for download only."
    ),
    "message_too_large": _(
        "The message (%(size)s) is larger than %(limit)s: only its headers and the beginning of its text were taken over; "
        "the complete message is kept in the inbound log."
    ),
    "attachments_of_large_message": _("%(count)s attachment(s) of the too large message were not taken over."),
    "text_cut": _(
        "The text (%(length)s characters) was longer than %(limit)s characters: the message shows the beginning, "
        "the complete text is attached as “full-text.txt”."
    ),
    "html_cut": _("The formatted (HTML) version was longer than %(limit)s characters and was shortened."),
    "html_dropped": _("The formatted (HTML) version could not be cleaned and was left out; the plain text is shown."),
    "description_shortened": _(
        "The description shows the first %(limit)s characters of the message; the complete text is in the message on the "
        "timeline."
    ),
    "subject_shortened": _("The subject was longer than %(limit)s characters and was shortened; the message keeps it whole."),
    "nesting_too_deep": _("Parts nested deeper than 40 levels were left out."),
    "structure_unreadable": _("Part of the message's structure could not be read; what could be read was taken over."),
    "no_boundary": _("A multi-part message had no readable part boundaries: its body was taken over as plain text."),
    "tnef_undecodable": _("The Outlook attachment winmail.dat could not be decoded; it is kept as it came."),
    "charset_guessed": _("Text was decoded by guessing its character set: %(detail)s"),
    "date_missing": _("The message has no sending date (Date header); the time of receipt is used."),
    "date_invalid": _("The sending date “%(value)s” could not be read; the time of receipt is used."),
    "no_acknowledgement": _("No acknowledgement was sent: the sender is an automatic address (%(detail)s)."),
}

TITLES: dict[str, Any] = {
    "intake_notes": _("Notes on the received e-mail"),
    "bounce": _("Delivery failure"),
    "automatic_reply": _("Automatic reply"),
    "send_failed": _("The message could not be sent"),
}

BOUNCE_TEXT = _("The message “%(subject)s” to %(to)s could not be delivered. The mail server answered: %(detail)s")
BOUNCE_UNMATCHED_TEXT = _("A delivery failure report arrived for this case. The mail server answered: %(detail)s")
AUTOMATIC_TEXT = _("An automatic reply arrived from %(sender)s: “%(subject)s”.")
SEND_FAILED_TEXT = _("The message “%(subject)s” to %(to)s could not be sent and will not be retried: %(detail)s")

# Notes whose "size" and "limit" are bytes (shown as "4.2 MB"); elsewhere they are counts.
_SIZE_CODES = {"attachment_too_large", "message_too_large"}


def reason_text(code: str) -> str:
    """The reason in the active language; an unknown code is shown as it is."""
    text = REASONS.get(code)
    return str(text) if text is not None else code


def note_text(code: str, params: dict[str, Any]) -> str:
    template = NOTES.get(code)
    if template is None:
        return str(params.get("detail") or code)
    sizes = code in _SIZE_CODES
    values = {key: (filesizeformat(value) if sizes and key in ("size", "limit") else value) for key, value in params.items()}
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)


def bilingual(render: Any) -> dict[str, Any]:
    """`render()` in every interface language: {"de": …, "en": …}."""
    out: dict[str, Any] = {}
    for language in LANGUAGES:
        with translation.override(language):
            out[language] = render()
    return out


def notes_entry_data(notes: Iterable[tuple[str, dict[str, Any]]], *, title: str = "intake_notes") -> dict[str, Any]:
    """`data` of a system timeline entry that lists notes in both languages."""
    notes = list(notes)
    return {
        "event": title,
        "notes": [{"code": code, "params": params} for code, params in notes],
        "title": bilingual(lambda: str(TITLES[title])),
        "texts": bilingual(lambda: [note_text(code, params) for code, params in notes]),
    }


def texts_entry_data(event: str, template: Any, params: dict[str, Any]) -> dict[str, Any]:
    """`data` of a system timeline entry with one sentence in both languages."""
    return {
        "event": event,
        "params": params,
        "title": bilingual(lambda: str(TITLES[event])),
        "texts": bilingual(lambda: [str(template) % params]),
    }
