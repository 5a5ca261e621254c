"""How a letter to a customer begins and how the customer's name reads in a sentence, in
German and English (the language of the case, not of the agent's screen). Pure Python.

    formal_greeting("de", salutation="ms", last_name="Mustermann")  → "Sehr geehrte Frau Mustermann"
    formal_greeting("en", salutation="ms", last_name="Mustermann")  → "Dear Ms Mustermann"
    formal_greeting("de", first_name="Erika", last_name="Mustermann") → "Guten Tag Erika Mustermann"
    formal_greeting("en", first_name="Erika", last_name="Mustermann") → "Dear Erika Mustermann"
"""

from __future__ import annotations


def _join(*parts: str) -> str:
    return " ".join(part.strip() for part in parts if part and part.strip())


def full_name(
    *,
    kind: str = "person",
    title: str = "",
    first_name: str = "",
    last_name: str = "",
    organisation_name: str = "",
    display_name: str = "",
) -> str:
    """The name as it reads in a sentence: "Dr. Erika Mustermann", "Stadtwerke Rheinfeld"."""
    if kind == "organisation":
        return (organisation_name or display_name).strip()
    return _join(title, first_name, last_name) or display_name.strip()


def formal_greeting(
    language: str,
    *,
    kind: str = "person",
    salutation: str = "",
    title: str = "",
    first_name: str = "",
    last_name: str = "",
    organisation_name: str = "",
    display_name: str = "",
) -> str:
    """The opening of a letter without its comma. Ms/Mr use the family name (with the title:
    "Sehr geehrte Frau Dr. Mustermann"; English puts the title in place of Ms/Mr: "Dear Dr
    Mustermann"); a neutral or unknown salutation greets by the full name; an organisation
    or a customer without a name gets the general form."""
    english = (language or "de")[:2] == "en"
    if kind == "person" and last_name.strip():
        if salutation in ("ms", "mr"):
            if english:
                form = title.strip().rstrip(".") if title.strip() else ("Ms" if salutation == "ms" else "Mr")
                return _join("Dear", form, last_name)
            return _join("Sehr geehrte Frau" if salutation == "ms" else "Sehr geehrter Herr", title, last_name)
        name = _join(title, first_name, last_name)
        return f"Dear {name}" if english else f"Guten Tag {name}"
    if kind == "person" and (first_name.strip() or display_name.strip()):
        name = _join(title, first_name) or display_name.strip()
        return f"Dear {name}" if english else f"Guten Tag {name}"
    return "Dear Sir or Madam" if english else "Sehr geehrte Damen und Herren"
