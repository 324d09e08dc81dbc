"""English dates as en-GB readers write them, with a 24-hour clock: "30 Nov 2026, 17:14".

Only what differs from Django's own English formats (US style, "Nov. 30, 2026, 5:14 p.m.").
"""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
MONTH_DAY_FORMAT = "j M"
