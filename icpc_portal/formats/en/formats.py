# Dates as the Centre writes them in English, day first as in French: "20 December 2026"
# (Django's default for English is "Dec. 20, 2026"). The `|when` filter writes the same.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
# Short dates in lists: ISO, which no reader takes for day-month or month-day.
SHORT_DATE_FORMAT = "Y-m-d"
