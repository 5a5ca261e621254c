"""The deadline engine against a table of worked scenarios, each with its legal source.

Dates were worked out by hand from the calendars (holidays 0.109) and the counting rules of
docs/deadlines.md; the first eight are the worked examples of the domain reference (§ 1.2).
An expected value "YYYY-MM-DD" means the end of that day (23:59:59.999 local); a full
"YYYY-MM-DDTHH:MM+HH:MM" is the exact instant.
"""

from __future__ import annotations

import datetime as dt

import pytest

from leitplanke.deadlines.engine import Closure, ExtensionEvent, Pause, compute, rule_from_dict, settings_from_dict

BD = {"measure": "business_days"}
PSD2 = {**BD, "duration": 15, "extensions": [{"event": "holding_reply", "duration": 35}]}
DISP15 = {**BD, "duration": 3, "due_time": "close_of_business"}
ENWG = {"measure": "weeks", "duration": 4, "end_roll": "bgb_193"}
GDPR = {
    "measure": "months",
    "duration": 1,
    "end_roll": "eu_1182_71",
    "extensions": [{"event": "extension_notice", "duration": 3}],
}
FCA8 = {"measure": "weeks", "duration": 8, "end_roll": "none"}
ONE = {**BD, "duration": 1}
XMAS = (Closure("Heiligabend", month=12, day=24), Closure("Silvester", month=12, day=31))

# (id, rule, received (local, with offset), jurisdiction, expected, source, extra)
SCENARIOS: list[tuple[str, dict, str, str, str, str, dict]] = [
    # domain reference worked examples
    ("psd2-nw-15", PSD2, "2026-04-02T10:00+02:00", "DE-NW", "2026-04-27", "ZAG § 62(1)", {}),
    ("psd2-nw-35", {**BD, "duration": 35}, "2026-04-02T10:00+02:00", "DE-NW", "2026-05-28", "ZAG § 62(3)", {}),
    ("psd2-eng-15", PSD2, "2026-04-02T10:00+01:00", "GB-ENG", "2026-04-27", "PSRs 2017 reg. 101; DISP 1.6.2A R", {}),
    ("psd2-eng-35", {**BD, "duration": 35}, "2026-04-02T10:00+01:00", "GB-ENG", "2026-05-27", "DISP 1.6.2A R", {}),
    ("disp15-eng", DISP15, "2026-03-27T10:00+00:00", "GB-ENG", "2026-04-01T17:00+01:00", "DISP 1.5.1 R", {}),
    ("enwg-sat", ENWG, "2026-01-31T10:00+01:00", "DE-NW", "2026-03-02", "EnWG § 111a; BGB §§ 188(2), 193", {}),
    ("gdpr-feb", GDPR, "2026-01-31T10:00+01:00", "DE-NW", "2026-03-02", "GDPR Art. 12(3); Reg. 1182/71 Art. 3(2)(c), 3(4)", {}),
    ("fca-8w", FCA8, "2026-01-05T10:00+00:00", "GB-ENG", "2026-03-02", "DISP 1.6.2 R", {}),
    # weekends
    ("fri-1bd", ONE, "2026-01-09T10:00+01:00", "DE-BE", "2026-01-12", "Reg. 1182/71 Art. 3(1), 3(3)", {}),
    ("sat-1bd", ONE, "2026-01-10T10:00+01:00", "DE-BE", "2026-01-12", "Reg. 1182/71 Art. 3(1)", {}),
    ("sun-1bd", ONE, "2026-01-11T10:00+01:00", "DE-BE", "2026-01-12", "Reg. 1182/71 Art. 3(1)", {}),
    (
        "sat-next-bd",
        ONE,
        "2026-01-10T10:00+01:00",
        "DE-BE",
        "2026-01-13",
        "BGB § 675n(1) s. 4 (option)",
        {"settings": {"non_business_day_receipt": "next_business_day"}},
    ),
    ("mon-5bd", {**BD, "duration": 5}, "2026-01-12T10:00+01:00", "DE-BE", "2026-01-19", "ZAG § 62 (Arbeitstage)", {}),
    ("wed-10bd", {**BD, "duration": 10}, "2026-01-14T10:00+01:00", "DE-BE", "2026-01-28", "BGB § 675x(4)", {}),
    # German state holidays
    ("corpus-christi-by", ONE, "2026-06-03T10:00+02:00", "DE-BY", "2026-06-05", "BayFTG Art. 1", {}),
    ("corpus-christi-be", ONE, "2026-06-03T10:00+02:00", "DE-BE", "2026-06-04", "FeiertG BE § 1", {}),
    ("corpus-christi-nw", ONE, "2026-06-03T10:00+02:00", "DE-NW", "2026-06-05", "FTG NW § 2", {}),
    ("corpus-christi-sn", ONE, "2026-06-03T10:00+02:00", "DE-SN", "2026-06-04", "SächsSFG § 1", {}),
    ("corpus-christi-sn-catholic", ONE, "2026-06-03T10:00+02:00", "DE-SN-CATHOLIC", "2026-06-05", "SächsSFG § 1(2)", {}),
    ("corpus-christi-th-catholic", ONE, "2026-06-03T10:00+02:00", "DE-TH-CATHOLIC", "2026-06-05", "ThürFtG § 2(2)", {}),
    ("assumption-by", ONE, "2025-08-14T10:00+02:00", "DE-BY", "2025-08-15", "BayFTG Art. 1(1) no. 2", {}),
    ("assumption-by-catholic", ONE, "2025-08-14T10:00+02:00", "DE-BY-CATHOLIC", "2025-08-18", "BayFTG Art. 1(1) no. 2", {}),
    ("assumption-sl", ONE, "2025-08-14T10:00+02:00", "DE-SL", "2025-08-18", "FTG SL § 2", {}),
    ("augsburg-peace", ONE, "2025-08-07T10:00+02:00", "DE-BY-AUGSBURG", "2025-08-11", "BayFTG Art. 1(2)", {}),
    ("augsburg-peace-by", ONE, "2025-08-07T10:00+02:00", "DE-BY", "2025-08-08", "BayFTG Art. 1(2)", {}),
    ("reformation-bb", ONE, "2025-10-30T10:00+01:00", "DE-BB", "2025-11-03", "FTG BB § 2", {}),
    ("reformation-be", ONE, "2025-10-30T10:00+01:00", "DE-BE", "2025-10-31", "FeiertG BE § 1", {}),
    ("reformation-by", ONE, "2025-10-30T10:00+01:00", "DE-BY", "2025-10-31", "BayFTG Art. 1", {}),
    ("all-saints-nw", {**BD, "duration": 2}, "2024-10-30T10:00+01:00", "DE-NW", "2024-11-04", "FTG NW § 2", {}),
    ("reformation-hh", ONE, "2024-10-30T10:00+01:00", "DE-HH", "2024-11-01", "FTG HH § 1", {}),
    ("womens-day-be", ONE, "2024-03-07T10:00+01:00", "DE-BE", "2024-03-11", "FeiertG BE § 1 (since 2019)", {}),
    ("womens-day-bb", ONE, "2024-03-07T10:00+01:00", "DE-BB", "2024-03-08", "FTG BB § 2", {}),
    ("womens-day-mv-2024", ONE, "2024-03-07T10:00+01:00", "DE-MV", "2024-03-11", "FTG MV § 2 (since 2023)", {}),
    ("womens-day-mv-2022", ONE, "2022-03-07T10:00+01:00", "DE-MV", "2022-03-08", "FTG MV § 2 (not yet in 2022)", {}),
    ("womens-day-be-2022", ONE, "2022-03-07T10:00+01:00", "DE-BE", "2022-03-09", "FeiertG BE § 1", {}),
    ("buss-und-bettag-sn", ONE, "2026-11-17T10:00+01:00", "DE-SN", "2026-11-19", "SächsSFG § 1", {}),
    ("buss-und-bettag-by", ONE, "2026-11-17T10:00+01:00", "DE-BY", "2026-11-18", "BayFTG Art. 1", {}),
    ("epiphany-bw", ONE, "2026-01-05T10:00+01:00", "DE-BW", "2026-01-07", "FTG BW § 1", {}),
    ("epiphany-nw", ONE, "2026-01-05T10:00+01:00", "DE-NW", "2026-01-06", "FTG NW § 2", {}),
    ("childrens-day-th", ONE, "2024-09-19T10:00+02:00", "DE-TH", "2024-09-23", "ThürFtG § 2 (since 2019)", {}),
    ("childrens-day-sn", ONE, "2024-09-19T10:00+02:00", "DE-SN", "2024-09-20", "SächsSFG § 1", {}),
    # UK nations
    (
        "second-january-sct",
        ONE,
        "2025-12-31T10:00+00:00",
        "GB-SCT",
        "2026-01-05",
        "Banking and Financial Dealings Act 1971 Sch. 1",
        {},
    ),
    ("second-january-eng", ONE, "2025-12-31T10:00+00:00", "GB-ENG", "2026-01-02", "BFDA 1971 Sch. 1", {}),
    ("st-patrick-nir", ONE, "2026-03-16T10:00+00:00", "GB-NIR", "2026-03-18", "BFDA 1971 Sch. 1 para. 3", {}),
    ("st-patrick-eng", ONE, "2026-03-16T10:00+00:00", "GB-ENG", "2026-03-17", "BFDA 1971 Sch. 1", {}),
    ("easter-monday-sct", ONE, "2026-04-02T10:00+01:00", "GB-SCT", "2026-04-06", "BFDA 1971 Sch. 1 para. 2", {}),
    ("easter-monday-eng", ONE, "2026-04-02T10:00+01:00", "GB-ENG", "2026-04-07", "BFDA 1971 Sch. 1 para. 1", {}),
    (
        "boyne-nir",
        ONE,
        "2026-07-10T10:00+01:00",
        "GB-NIR",
        "2026-07-14",
        "Northern Ireland bank holidays (12 July, substitute)",
        {},
    ),
    ("boyne-eng", ONE, "2026-07-10T10:00+01:00", "GB-ENG", "2026-07-13", "BFDA 1971 Sch. 1", {}),
    ("summer-sct", ONE, "2026-07-31T10:00+01:00", "GB-SCT", "2026-08-04", "BFDA 1971 Sch. 1 para. 2", {}),
    ("summer-eng-early-aug", ONE, "2026-07-31T10:00+01:00", "GB-ENG", "2026-08-03", "BFDA 1971 Sch. 1 para. 1", {}),
    ("summer-eng", ONE, "2026-08-28T10:00+01:00", "GB-ENG", "2026-09-01", "BFDA 1971 Sch. 1 para. 1", {}),
    ("summer-sct-late-aug", ONE, "2026-08-28T10:00+01:00", "GB-SCT", "2026-08-31", "BFDA 1971 Sch. 1 para. 2", {}),
    (
        "st-andrew-sct",
        ONE,
        "2026-11-27T10:00+00:00",
        "GB-SCT",
        "2026-12-01",
        "St Andrew's Day Bank Holiday (Scotland) Act 2007",
        {},
    ),
    ("st-andrew-wls", ONE, "2026-11-27T10:00+00:00", "GB-WLS", "2026-11-30", "BFDA 1971 Sch. 1", {}),
    (
        "one-off-sct-2026",
        ONE,
        "2026-06-12T10:00+01:00",
        "GB-SCT",
        "2026-06-16",
        "Royal proclamation (one-off bank holiday 15 June 2026)",
        {},
    ),
    # Christmas and New Year, organisation closures
    (
        "xmas-closures-nw",
        ONE,
        "2026-12-23T10:00+01:00",
        "DE-NW",
        "2026-12-28",
        "ZAG § 62; organisation closures",
        {"closures": XMAS},
    ),
    ("xmas-no-closures-nw", ONE, "2026-12-23T10:00+01:00", "DE-NW", "2026-12-24", "ZAG § 62", {}),
    (
        "xmas-5bd-closures",
        {**BD, "duration": 5},
        "2026-12-23T10:00+01:00",
        "DE-NW",
        "2027-01-05",
        "ZAG § 62; closures",
        {"closures": XMAS},
    ),
    (
        "dated-closure",
        {**BD, "duration": 5},
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-20",
        "organisation closure",
        {"closures": (Closure("Betriebsversammlung", date=dt.date(2026, 1, 14)),)},
    ),
    ("boxing-day-substitute-eng", ONE, "2026-12-24T10:00+00:00", "GB-ENG", "2026-12-29", "BFDA 1971 Sch. 1 (substitute day)", {}),
    ("new-year-eng-2027", ONE, "2026-12-31T10:00+00:00", "GB-ENG", "2027-01-04", "BFDA 1971 Sch. 1", {}),
    (
        "new-year-sct-2027",
        ONE,
        "2026-12-31T10:00+00:00",
        "GB-SCT",
        "2027-01-05",
        "BFDA 1971 Sch. 1 para. 2 (2 Jan substitute)",
        {},
    ),
    # Easter
    ("easter-bb", ONE, "2026-04-02T10:00+02:00", "DE-BB", "2026-04-07", "FTG BB § 2", {}),
    ("easter-2025-he", ONE, "2025-04-17T10:00+02:00", "DE-HE", "2025-04-22", "HFeiertagsG § 1", {}),
    # daylight saving
    (
        "dst-bh-spring",
        {"measure": "business_hours", "duration": 8},
        "2026-03-27T13:00+01:00",
        "DE-NW",
        "2026-03-30T13:00+02:00",
        "internal target",
        {},
    ),
    (
        "dst-72h-spring",
        {"measure": "elapsed_hours", "duration": 72},
        "2026-03-27T12:00+01:00",
        "DE-NW",
        "2026-03-30T13:00+02:00",
        "GDPR Art. 33(1); Reg. 1182/71 Art. 3(1)",
        {},
    ),
    (
        "dst-24h-autumn",
        {"measure": "elapsed_hours", "duration": 24},
        "2026-10-24T12:00+02:00",
        "DE-NW",
        "2026-10-25T11:00+01:00",
        "Reg. 1182/71 Art. 3(1)",
        {},
    ),
    ("dst-1bd-autumn", ONE, "2026-10-23T10:00+02:00", "DE-NW", "2026-10-26", "ZAG § 62", {}),
    (
        "dst-48h-london",
        {"measure": "elapsed_hours", "duration": 48},
        "2026-03-28T12:00+00:00",
        "GB-ENG",
        "2026-03-30T13:00+01:00",
        "UK GDPR Art. 33(1)",
        {},
    ),
    # months that lack the day
    ("month-leap-feb", {"measure": "months", "duration": 1}, "2024-01-31T10:00+01:00", "DE-NW", "2024-02-29", "BGB § 188(3)", {}),
    (
        "month-feb-no-roll",
        {"measure": "months", "duration": 1},
        "2026-01-30T10:00+01:00",
        "DE-NW",
        "2026-02-28",
        "BGB § 188(3)",
        {},
    ),
    ("month-april", {"measure": "months", "duration": 1}, "2026-03-31T10:00+02:00", "DE-NW", "2026-04-30", "BGB § 188(3)", {}),
    (
        "gdpr-3-months-eng",
        {**GDPR, "duration": 3},
        "2026-05-31T10:00+01:00",
        "GB-ENG",
        "2026-09-01",
        "UK GDPR Art. 12(3); ICO guidance (roll over bank holiday 31 Aug)",
        {},
    ),
    ("month-september", GDPR, "2026-08-31T10:00+02:00", "DE-BY", "2026-09-30", "Reg. 1182/71 Art. 3(2)(c)", {}),
    (
        "month-leap-day-easter",
        GDPR,
        "2024-02-29T10:00+01:00",
        "DE-NW",
        "2024-04-02",
        "Reg. 1182/71 Art. 3(4) (Good Friday, Easter Monday)",
        {},
    ),
    # weeks with and without the roll
    ("enwg-sat-end", ENWG, "2026-09-26T10:00+02:00", "DE-NW", "2026-10-26", "BGB § 193", {}),
    ("enwg-reformation-bb", ENWG, "2025-10-03T10:00+02:00", "DE-BB", "2025-11-03", "BGB § 193; FTG BB § 2", {}),
    ("enwg-reformation-nw", ENWG, "2025-10-03T10:00+02:00", "DE-NW", "2025-10-31", "BGB § 188(2)", {}),
    ("fca-8w-saturday", FCA8, "2026-01-03T10:00+00:00", "GB-ENG", "2026-02-28", "DISP 1.6.2 R (no roll)", {}),
    # calendar days
    (
        "days-10",
        {"measure": "calendar_days", "duration": 10},
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-22",
        "BGB § 188(1)",
        {},
    ),
    (
        "days-10-roll",
        {"measure": "calendar_days", "duration": 10, "end_roll": "eu_1182_71"},
        "2026-01-14T10:00+01:00",
        "DE-NW",
        "2026-01-26",
        "Reg. 1182/71 Art. 3(4)",
        {},
    ),
    # Reg. 1182/71 Art. 3(5): a period of two days or more contains at least two working days
    (
        "two-working-days-easter",
        {"measure": "calendar_days", "duration": 2, "end_roll": "eu_1182_71"},
        "2026-04-02T10:00+02:00",
        "DE-NW",
        "2026-04-08",
        "Reg. 1182/71 Art. 3(4), 3(5)",
        {},
    ),
    (
        "two-working-days-christmas",
        {"measure": "calendar_days", "duration": 2, "end_roll": "eu_1182_71"},
        "2026-12-24T10:00+01:00",
        "DE-NW",
        "2026-12-29",
        "Reg. 1182/71 Art. 3(4), 3(5)",
        {},
    ),
    (
        "two-working-days-bgb-not",
        {"measure": "calendar_days", "duration": 2, "end_roll": "bgb_193"},
        "2026-04-02T10:00+02:00",
        "DE-NW",
        "2026-04-07",
        "BGB § 193 (no Art. 3(5) rule)",
        {},
    ),
    # receipt cut-off (organisation setting)
    (
        "cut-off-after",
        ONE,
        "2026-01-12T16:30+01:00",
        "DE-NW",
        "2026-01-14",
        "organisation cut-off (BGB § 675n(1) s. 5 by analogy)",
        {"settings": {"cut_off": "16:00"}},
    ),
    (
        "cut-off-before",
        ONE,
        "2026-01-12T15:59+01:00",
        "DE-NW",
        "2026-01-13",
        "organisation cut-off",
        {"settings": {"cut_off": "16:00"}},
    ),
    # close of business with own hours
    (
        "disp15-sct-hours",
        {**DISP15, "business_hours": {d: ["08:30", "17:30"] for d in ("mon", "tue", "wed", "thu", "fri")}},
        "2026-03-27T10:00+00:00",
        "GB-SCT",
        "2026-04-01T17:30+01:00",
        "DISP 1.5.1 R",
        {},
    ),
    (
        "cob-setting",
        ONE,
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-13T17:00+01:00",
        "organisation setting: close of business",
        {"settings": {"due_time": "close_of_business"}},
    ),
    # internal targets in business hours
    (
        "bh-4-overnight",
        {"measure": "business_hours", "duration": 4},
        "2026-01-12T15:00+01:00",
        "DE-NW",
        "2026-01-13T11:00+01:00",
        "internal first-response target",
        {},
    ),
    (
        "bh-4-saturday",
        {"measure": "business_hours", "duration": 4},
        "2026-01-10T15:00+01:00",
        "DE-NW",
        "2026-01-12T13:00+01:00",
        "internal first-response target",
        {},
    ),
    (
        "bh-4-early",
        {"measure": "business_hours", "duration": 4},
        "2026-01-12T07:00+01:00",
        "DE-NW",
        "2026-01-12T13:00+01:00",
        "internal first-response target",
        {},
    ),
    (
        "bh-16-christmas",
        {"measure": "business_hours", "duration": 16},
        "2026-12-24T10:00+01:00",
        "DE-NW",
        "2026-12-29T17:00+01:00",
        "internal resolution target; closures",
        {"closures": XMAS},
    ),
    # pauses
    (
        "pause-two-days",
        {**BD, "duration": 5, "pauses_stop": True},
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-21",
        "internal target (pause)",
        {"pauses": [("2026-01-14T00:00+01:00", "2026-01-16T00:00+01:00")]},
    ),
    (
        "pause-ignored",
        {**BD, "duration": 5},
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-19",
        "ZAG § 62 (no clock stop)",
        {"pauses": [("2026-01-14T00:00+01:00", "2026-01-16T00:00+01:00")]},
    ),
    (
        "pause-end-day-not-counted",
        {**BD, "duration": 5, "pauses_stop": True},
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-20",
        "BGB § 187(1) by analogy (setting)",
        {"pauses": [("2026-01-14T10:00+01:00", "2026-01-15T10:00+01:00")], "settings": {"pause_end_day": "not_counted"}},
    ),
    (
        "pause-end-day-counts",
        {**BD, "duration": 5, "pauses_stop": True},
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-19",
        "default setting",
        {"pauses": [("2026-01-14T10:00+01:00", "2026-01-15T10:00+01:00")]},
    ),
    (
        "pause-72h",
        {"measure": "elapsed_hours", "duration": 72, "pauses_stop": True},
        "2026-01-12T10:00+01:00",
        "DE-NW",
        "2026-01-15T20:00+01:00",
        "internal target (pause)",
        {"pauses": [("2026-01-13T08:00+01:00", "2026-01-13T18:00+01:00")]},
    ),
    (
        "pause-month-easter",
        {**GDPR, "pauses_stop": True},
        "2026-03-02T10:00+01:00",
        "DE-NW",
        "2026-04-07",
        "GDPR Art. 12(3), EDPB 01/2022 (identification); Reg. 1182/71 Art. 3(4)",
        {"pauses": [("2026-03-10T00:00+01:00", "2026-03-13T00:00+01:00")]},
    ),
    # extensions
    (
        "psd2-holding-reply",
        PSD2,
        "2026-04-02T10:00+02:00",
        "DE-NW",
        "2026-05-28",
        "ZAG § 62(3)",
        {"extensions": [("holding_reply", "2026-04-20T09:00+02:00")]},
    ),
    (
        "psd2-holding-reply-late",
        PSD2,
        "2026-04-02T10:00+02:00",
        "DE-NW",
        "2026-04-27",
        "ZAG § 62(3): holding reply within 15 days",
        {"extensions": [("holding_reply", "2026-04-28T09:00+02:00")]},
    ),
    (
        "gdpr-extended",
        GDPR,
        "2026-01-15T10:00+01:00",
        "DE-NW",
        "2026-04-15",
        "GDPR Art. 12(3) s. 2",
        {"extensions": [("extension_notice", "2026-02-01T09:00+01:00")]},
    ),
    (
        "psd2-uk-holding-reply",
        PSD2,
        "2026-04-02T10:00+01:00",
        "GB-ENG",
        "2026-05-27",
        "DISP 1.6.2A R(2)",
        {"extensions": [("holding_reply", "2026-04-10T09:00+01:00")]},
    ),
]


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def run(rule: dict, received: str, code: str, extra: dict):
    tz = "Europe/London" if code.startswith("GB") else "Europe/Berlin"
    return compute(
        rule_from_dict(rule, key="scenario"),
        _when(received),
        code,
        tz,
        pauses=[Pause(_when(a), _when(b) if b else None) for a, b in extra.get("pauses", [])],
        closures=extra.get("closures", ()),
        extensions=[ExtensionEvent(event, _when(at)) for event, at in extra.get("extensions", [])],
        settings=settings_from_dict(extra.get("settings")),
    )


def test_the_table_has_at_least_sixty_scenarios_each_with_a_source():
    assert len(SCENARIOS) >= 60
    assert len({s[0] for s in SCENARIOS}) == len(SCENARIOS)
    assert all(s[5] for s in SCENARIOS)


@pytest.mark.parametrize(
    ("name", "rule", "received", "code", "expected", "source", "extra"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_scenario(name, rule, received, code, expected, source, extra):
    result = run(rule, received, code, extra)
    assert result.due_at is not None
    if "T" in expected:
        assert result.due_at == _when(expected), result.steps
        assert result.due_at.isoformat(timespec="minutes") == expected.replace("+00:00", "+00:00")
    else:
        local = result.due_at
        assert local.date().isoformat() == expected, result.steps
        assert local.time() == dt.time(23, 59, 59, 999000)
    assert result.warn_at is not None and result.warn_at <= result.due_at
    assert result.steps
