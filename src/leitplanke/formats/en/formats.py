"""English dates as a European reader writes them: day first, 24-hour clock
("01 Dec 2026 14:05", "1 December 2026"), not Django's US defaults ("12/01/2026 2:05 p.m.").
Only output formats change; input formats stay Django's (forms use ISO widgets)."""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d M Y"
SHORT_DATETIME_FORMAT = "d M Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
