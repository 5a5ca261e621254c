"""Normal forms of customer contact data: e-mail addresses lower-case, phone numbers in
E.164, customer numbers upper-case. Used when storing (services) and when looking up
(selectors), so that both agree."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email


def normalise_email(value: str) -> str | None:
    """Lower-cased, stripped address, or None when it is not a valid e-mail address."""
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        return None
    return email


def normalise_phone(value: str, *, country: str = "DE") -> str | None:
    """E.164 (e.g. "+49221123456"), or None when the number cannot be valid.

    National numbers ("0221 123456") are read in the customer's country."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, (country or "DE").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_customer_number(value: str) -> str:
    """Customer numbers are stored upper-case, so that exact lookups hit the unique index."""
    return (value or "").strip().upper()


def fold_accents(value: str) -> str:
    """Case-folded and without diacritics ("Müller" → "muller", "Straße" → "strasse")."""
    decomposed = unicodedata.normalize("NFKD", (value or "").casefold())
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def search_terms(*, names: list[str], customer_number: str, emails: list[str], phones: list[str]) -> str:
    """The words by which a customer's cases are found: the names case-folded and, where
    they differ, without diacritics (so "muller" finds "Müller" on PostgreSQL too, whose
    text search keeps accents); the customer number; e-mail addresses; phone numbers as
    E.164 digits without "+" (what `phone_search_token` makes of a typed number)."""
    words: list[str] = []
    for name in names:
        folded = (name or "").casefold().strip()
        if not folded:
            continue
        words.append(folded)
        plain = fold_accents(folded)
        if plain != folded:
            words.append(plain)
    if customer_number:
        words.append(customer_number.lower())
    words.extend(email.lower() for email in emails if email)
    words.extend(phone.lstrip("+") for phone in phones if phone)
    return " ".join(words).replace("\n", " ")


def phone_search_token(value: str) -> str | None:
    """A typed phone number ("0221 123456", "+49 221 123456") as the token the search
    document holds ("49221123456"), or None when it is no phone number."""
    text = (value or "").strip()
    if not re.match(r"^\+?[\d\s()./-]{5,}$", text) or sum(ch.isdigit() for ch in text) < 5:
        return None
    phone = normalise_phone(text)
    return phone.lstrip("+") if phone else None
