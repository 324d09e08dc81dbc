"""French dates with an abbreviated month and a 24-hour clock: « 30 nov. 2026, 17:14 »."""

DATE_FORMAT = "j N Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j N Y, H:i"
MONTH_DAY_FORMAT = "j N"
