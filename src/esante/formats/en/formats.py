"""English as written in Luxembourg: the day first, the 24-hour clock (as on the French
and German pages). Whatever is not set here is Django's English; Django accepts ISO
dates (2026-09-18, what <input type="date"> sends) in every language besides the input
formats below."""

from __future__ import annotations

DATE_FORMAT = "j F Y"  # 18 September 2026
TIME_FORMAT = "H:i"  # 14:05
DATETIME_FORMAT = "j F Y, H:i"  # 18 September 2026, 14:05
YEAR_MONTH_FORMAT = "F Y"  # September 2026
MONTH_DAY_FORMAT = "j F"  # 18 September
SHORT_DATE_FORMAT = "d/m/Y"  # 18/09/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 18/09/2026 14:05
FIRST_DAY_OF_WEEK = 1  # Monday

DATE_INPUT_FORMATS = [
    "%d/%m/%Y",  # 18/09/2026
    "%d/%m/%y",  # 18/09/26
]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M:%S",  # 18/09/2026 14:05:59
    "%d/%m/%Y %H:%M",  # 18/09/2026 14:05
]
