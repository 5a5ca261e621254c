"""Reads an HTML form the way a browser would submit it unchanged: every named input with
its value, checked boxes, the selected (or first) option, textareas with their text."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode


class _FormParser(HTMLParser):
    def __init__(self, action_contains: str, field: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action_contains, self.field = action_contains, field
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "data": {}, "names": set()}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            self._form["names"].add(name)
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["data"].setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._form["data"][name] = [a.get("value", "")]
        elif tag == "textarea" and name:
            self._form["names"].add(name)
            self._textarea = name
            self._form["data"][name] = [""]
        elif tag == "select" and name:
            self._form["names"].add(name)
            self._select, self._select_first, self._select_chosen = name, None, False
            self._multiple = "multiple" in a
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None and value:
                self._select_first = value
            if "selected" in a:
                self._form["data"].setdefault(self._select, []).append(value)
                self._select_chosen = True

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form["data"][self._textarea] = [self._form["data"][self._textarea][0] + data]

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._form is not None and self._select:
            if not self._select_chosen and self._select_first is not None and not self._multiple:
                self._form["data"][self._select] = [self._select_first]
            self._select = None
        elif tag == "form":
            self._form = None


def form_data(html: str, *, field: str, action_contains: str = "") -> dict[str, list[str]]:
    """The data of the first POST form that has `field` (and whose action contains
    `action_contains`), as a browser would send it."""
    parser = _FormParser(action_contains, field)
    parser.feed(html)
    for form in parser.forms:
        if form["method"] == "post" and field in form["names"] and action_contains in form["action"]:
            data = dict(form["data"])
            data.pop("csrfmiddlewaretoken", None)
            return data
    raise AssertionError(f"no POST form with the field {field!r} (action containing {action_contains!r})")


def form_action(html: str, *, field: str, action_contains: str = "") -> str:
    parser = _FormParser(action_contains, field)
    parser.feed(html)
    for form in parser.forms:
        if form["method"] == "post" and field in form["names"] and action_contains in form["action"]:
            return str(form["action"])
    raise AssertionError(f"no POST form with the field {field!r}")


def encode(data: dict[str, Any]) -> str:
    """URL-encodes form data; lone surrogates go out as the bytes a broken client would send."""
    return urlencode(data, doseq=True, encoding="utf-8", errors="surrogatepass")
