"""Day before month and a 24-hour clock, as in Hong Kong English; anything not set here is Django's."""

DATE_FORMAT = "j M Y"  # 5 Sep 2016
DATETIME_FORMAT = "j M Y, H:i"  # 5 Sep 2016, 20:45
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"  # 5 September
SHORT_DATE_FORMAT = "d/m/Y"  # 05/09/2016
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 05/09/2016 20:45
