"""Disclosure periods (G5): the month, quarter, half-year or year a day falls in.

Shared by the catalogue, which opens a case per period, and by the demo data, which
lays its periodic items around the day it is loaded.
"""

from __future__ import annotations

import datetime as dt


def period_of(day: dt.date, period: str) -> tuple[dt.date, dt.date, str]:
    """G5: the period containing ``day``: (first day, last day, Chinese label)."""
    months = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}[period]
    first_month = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first_month, 1)
    following = (dt.date(day.year + 1, 1, 1) if first_month + months > 12
                 else dt.date(day.year, first_month + months, 1))
    end = following - dt.timedelta(days=1)
    index = (first_month - 1) // months
    if period == "monthly":
        label = f"{day.year} 年 {first_month} 月"
    elif period == "quarterly":
        label = f"{day.year} 年第{'一二三四'[index]}季度"
    elif period == "half_yearly":
        label = f"{day.year} 年{'上下'[index]}半年"
    else:
        label = f"{day.year} 年度"
    return start, end, label


def previous_period(day: dt.date, period: str) -> tuple[dt.date, dt.date, str]:
    """The period before the one containing ``day``."""
    start, _, _ = period_of(day, period)
    return period_of(start - dt.timedelta(days=1), period)
