"""Working-day calendar for deadlines counted in working days (rule A5).

Pure: no database, no Flask, no clock. Which days are working days is decided in
this order, first match wins:

1. organisation overrides (``overrides``: the caller picks the organisation);
2. the official schedule an administrator imported (``official``, see
   :func:`parse_schedule`); in a year that has imported rows, days not listed
   fall back to the statutory rules below but are *not* provisional;
3. ``chinese_calendar`` (holidays and make-up workdays, 调休) for the years it knows;
4. weekends plus the statutory holidays of 《全国年节及纪念日放假办法》 (2024
   revision) computed with ``lunar_python`` — such days are *provisional*,
   because the year's official schedule with its 调休 is not known yet.

The day of receipt is never counted: day 1 is the first working day after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

import chinese_calendar
from lunar_python import Lunar, Solar

__all__ = [
    "MAX_SEARCH_DAYS",
    "DayInfo",
    "Due",
    "ScheduleDay",
    "ScheduleError",
    "Skipped",
    "WorkCalendar",
    "official_known",
    "official_mapping",
    "parse_schedule",
    "statutory_holidays",
]

# Ten years of calendar days: far beyond any real deadline, small enough that a
# misconfigured calendar (an override closing every day) fails fast instead of hanging.
MAX_SEARCH_DAYS = 3660

_ONE_DAY = timedelta(days=1)

MAKEUP_WORKDAY = "调休上班"
_WEEKEND = {5: "周六", 6: "周日"}
_OVERRIDE_PREFIX = "单位调整："
_DEFAULT_HOLIDAY = "节假日"

# chinese_calendar names its holidays in English; users read Chinese.
_CC_NAMES: dict[str, str] = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

# For Due.explain(lang="en").
_EN_REASONS: dict[str, str] = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Qingming Festival",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "国庆节": "National Day",
    "中秋节": "Mid-Autumn Festival",
    "抗战胜利70周年纪念日": "Victory Day (70th anniversary)",
    "周六": "Saturday",
    "周日": "Sunday",
    MAKEUP_WORKDAY: "make-up workday",
    _DEFAULT_HOLIDAY: "holiday",
}


def _reason_en(reason: str) -> str:
    if reason.startswith(_OVERRIDE_PREFIX):
        return "organisation adjustment: " + reason[len(_OVERRIDE_PREFIX) :]
    parts = reason.split("、")
    return " / ".join(_EN_REASONS.get(p, p) for p in parts)


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class DayInfo:
    """What one calendar day is, and why (the reason is shown to users)."""

    date: date
    workday: bool
    reason: str  # Chinese; "" for an ordinary weekday
    provisional: bool  # decided by the fallback rules, not an official schedule


@dataclass(frozen=True)
class Skipped:
    """A non-working day passed over while counting a deadline."""

    date: date
    reason: str


@dataclass(frozen=True)
class Due:
    """A deadline counted in working days, with enough detail to explain it."""

    start: date
    days: int
    due: date
    provisional: bool  # any day counted or skipped was provisional
    skipped: tuple[Skipped, ...]  # non-working days skipped between start (exclusive) and due
    # Years whose days were decided by the fallback rules (for the explanation).
    provisional_years: tuple[int, ...] = field(default=(), compare=False)

    def to_json(self) -> dict:
        """Plain JSON for APIs and the event log."""
        return {
            "due": self.due.isoformat(),
            "provisional": self.provisional,
            "skipped": [{"date": s.date.isoformat(), "reason": s.reason} for s in self.skipped],
        }

    def _groups(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for s in self.skipped:
            counts[s.reason] = counts.get(s.reason, 0) + 1
        return list(counts.items())

    def explain(self, lang: str = "zh") -> str:
        """One sentence telling a user how the due date was reached."""
        en = (lang or "zh").lower().startswith("en")
        years = self.provisional_years or _unknown_years(self.start, self.due)
        if en:
            if self.days == 0:
                text = f"0 working days: due on {self.due.isoformat()}"
            else:
                text = (
                    f"Working day {self.days} after {self.start.isoformat()} is "
                    f"{self.due.isoformat()}"
                )
                if self.skipped:
                    groups = ", ".join(f"{_reason_en(r)} ×{c}" for r, c in self._groups())
                    text += f"; {len(self.skipped)} non-working days skipped ({groups})"
                else:
                    text += "; no non-working days skipped"
            if self.provisional:
                ys = ", ".join(str(y) for y in years) or "this year"
                text += f" (provisional: the official {ys} holiday schedule is not published yet)"
            return text
        if self.days == 0:
            text = f"期限为 0 个工作日，截止日即 {self.due.isoformat()}"
        else:
            text = f"自 {self.start.isoformat()} 起第 {self.days} 个工作日为 {self.due.isoformat()}"
            if self.skipped:
                groups = "、".join(f"{r} {c} 天" for r, c in self._groups())
                text += f"，跳过 {len(self.skipped)} 个非工作日（{groups}）"
            else:
                text += "，未跳过非工作日"
        if self.provisional:
            ys = "、".join(str(y) for y in years)
            text += (
                f"（暂定：{ys} 年官方放假安排尚未发布）" if ys else "（暂定：官方放假安排尚未发布）"
            )
        return text


def _unknown_years(start: date, end: date) -> tuple[int, ...]:
    return tuple(y for y in range(start.year, end.year + 1) if not official_known(y))


# --------------------------------------------------------------------------- rules


@cache
def official_known(year: int) -> bool:
    """Whether chinese_calendar has the official schedule (holidays and 调休) for ``year``."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _solar_date(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=64)
def _statutory(year: int) -> Mapping[date, str]:
    table: dict[date, str] = {}

    def add(day: date, name: str) -> None:
        # 中秋 can fall on 国庆 (e.g. 2028-10-03): keep both names.
        table[day] = f"{table[day]}、{name}" if day in table else name

    add(date(year, 1, 1), "元旦")
    new_year = _solar_date(Lunar.fromYmd(year, 1, 1).getSolar())
    for offset in (-1, 0, 1, 2):  # 除夕 (day before 正月初一), 初一, 初二, 初三
        add(new_year + timedelta(days=offset), "春节")
    qingming = Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()["清明"]
    add(_solar_date(qingming), "清明节")
    add(date(year, 5, 1), "劳动节")
    add(date(year, 5, 2), "劳动节")
    add(_solar_date(Lunar.fromYmd(year, 5, 5).getSolar()), "端午节")
    add(_solar_date(Lunar.fromYmd(year, 8, 15).getSolar()), "中秋节")
    for d in (1, 2, 3):
        add(date(year, 10, d), "国庆节")
    return MappingProxyType(dict(sorted(table.items())))


def statutory_holidays(year: int) -> dict[date, str]:
    """Statutory holidays of ``year`` by the national rules (2024 revision), Chinese names.

    Used for years chinese_calendar does not know: no 调休 and no 补休, which the
    State Council only announces late in the preceding year.
    """
    return dict(_statutory(year))


# --------------------------------------------------------------------------- calendar


def _check_date(d: object, what: str) -> date:
    # datetime is a date subclass but never equals a date key: convert with
    # workflow.base.timeutil.local_date so the day is the day in China.
    if isinstance(d, dt.datetime) or not isinstance(d, date):
        raise TypeError(f"{what} must be a datetime.date, got {type(d).__name__}")
    return d


def _freeze(m: Mapping[date, tuple[bool, str]] | None, what: str) -> Mapping:
    out: dict[date, tuple[bool, str]] = {}
    for k, v in (m or {}).items():
        workday, text = v
        out[_check_date(k, f"{what} key")] = (bool(workday), str(text or ""))
    return MappingProxyType(out)


class WorkCalendar:
    """Decides working days and counts deadlines in working days (rule A5).

    Instances are cheap and immutable from the outside; per-day answers are cached,
    so build one per (official schedule, organisation overrides) and reuse it.
    """

    def __init__(
        self,
        official: Mapping[date, tuple[bool, str]] | None = None,
        overrides: Mapping[date, tuple[bool, str]] | None = None,
    ) -> None:
        self._official = _freeze(official, "official")
        self._overrides = _freeze(overrides, "overrides")
        self._official_years = frozenset(d.year for d in self._official)
        self._cache: dict[date, DayInfo] = {}

    # ---- single days

    def day(self, d: date) -> DayInfo:
        """The status of ``d`` and the reason shown to users."""
        info = self._cache.get(d)
        if info is None:
            info = self._decide(_check_date(d, "d"))
            self._cache[d] = info
        return info

    def _decide(self, d: date) -> DayInfo:
        weekend = _WEEKEND.get(d.weekday())
        if d in self._overrides:
            workday, reason = self._overrides[d]
            return DayInfo(d, workday, _OVERRIDE_PREFIX + reason if reason else "单位调整", False)
        if d in self._official:
            workday, name = self._official[d]
            if workday:
                return DayInfo(d, True, MAKEUP_WORKDAY if weekend else "", False)
            return DayInfo(d, False, name or weekend or _DEFAULT_HOLIDAY, False)
        if official_known(d.year):
            holiday, name = chinese_calendar.get_holiday_detail(d)
            if not holiday:
                return DayInfo(d, True, MAKEUP_WORKDAY if weekend else "", False)
            reason = _CC_NAMES.get(name, _DEFAULT_HOLIDAY) if name else weekend
            return DayInfo(d, False, reason or _DEFAULT_HOLIDAY, False)
        provisional = d.year not in self._official_years
        statutory = _statutory(d.year).get(d)
        if statutory:
            return DayInfo(d, False, statutory, provisional)
        if weekend:
            return DayInfo(d, False, weekend, provisional)
        return DayInfo(d, True, "", provisional)

    def is_workday(self, d: date) -> bool:
        return self.day(d).workday

    def years_provisional(self, start: date, end: date) -> bool:
        """Whether any year touched by ``start..end`` is only known from the fallback rules."""
        lo, hi = sorted((start.year, end.year))
        return any(
            not official_known(y) and y not in self._official_years for y in range(lo, hi + 1)
        )

    # ---- counting

    @staticmethod
    def _step(d: date, delta: timedelta, origin: date, n: int) -> date:
        if abs((d - origin).days) >= MAX_SEARCH_DAYS:
            raise ValueError(
                f"在 {MAX_SEARCH_DAYS} 天内找不到距 {origin.isoformat()} 第 {n} 个工作日，"
                f"请检查节假日与单位调整设置 / no working day {n} from {origin.isoformat()} "
                f"within {MAX_SEARCH_DAYS} days; check holidays and organisation overrides"
            )
        try:
            return d + delta
        except OverflowError:
            raise ValueError(
                f"日期超出范围：{d.isoformat()} / date out of range: {d.isoformat()}"
            ) from None

    def add_working_days(self, start: date, n: int) -> Due:
        """The ``n``-th working day after ``start`` (the day of receipt is not counted)."""
        _check_date(start, "start")
        if n < 0:
            raise ValueError(f"工作日数不能为负数：{n} / number of working days must be >= 0: {n}")
        d, counted = start, 0
        skipped: list[Skipped] = []
        years: set[int] = set()
        while counted < n:
            d = self._step(d, _ONE_DAY, start, n)
            info = self.day(d)
            if info.provisional:
                years.add(d.year)
            if info.workday:
                counted += 1
            else:
                skipped.append(Skipped(d, info.reason))
        return Due(start, n, d, bool(years), tuple(skipped), tuple(sorted(years)))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days ``d`` with ``start < d <= end`` (0 if ``end <= start``).

        Inverse of counting: ``working_days_between(s, add_working_days(s, n).due) == n``.
        """
        _check_date(start, "start")
        _check_date(end, "end")
        count, d = 0, start
        while d < end:
            d += _ONE_DAY
            count += self.day(d).workday
        return count

    def subtract_working_days(self, end: date, n: int) -> date:
        """The ``n``-th working day before ``end`` (``end`` itself not counted); n == 0 -> end.

        For reminders such as "5 working days before the due date". Since a due date
        is a working day, ``add_working_days(subtract_working_days(due, n), n).due == due``.
        """
        _check_date(end, "end")
        if n < 0:
            raise ValueError(f"工作日数不能为负数：{n} / number of working days must be >= 0: {n}")
        d, counted = end, 0
        while counted < n:
            d = self._step(d, -_ONE_DAY, end, n)
            counted += self.day(d).workday
        return d


# --------------------------------------------------------------------------- import


class ScheduleError(ValueError):
    """An official schedule file that cannot be imported (message: Chinese / English)."""


@dataclass(frozen=True)
class ScheduleDay:
    """One row of an official holiday schedule."""

    date: date
    workday: bool
    name: str


_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_TYPES = {
    "holiday": False,
    "休": False,
    "假": False,
    "休息": False,
    "放假": False,
    "workday": True,
    "班": True,
    "上班": True,
}
_HEADER_ALIASES = {"date": "date", "日期": "date", "type": "type", "类型": "type",
                   "name": "name", "名称": "name"}  # fmt: skip


def _parse_date(text: str) -> date | None:
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def official_mapping(days: Iterable[ScheduleDay]) -> dict[date, tuple[bool, str]]:
    """The ``official`` argument of :class:`WorkCalendar` from parsed schedule rows."""
    return {d.date: (d.workday, d.name) for d in days}


def parse_schedule(path: str | Path) -> list[ScheduleDay]:
    """Read an official schedule (CSV ``date,type,name`` or JSON), sorted by date.

    Raises :class:`ScheduleError` naming the line or field at fault.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScheduleError(
            f"文件不是 UTF-8 编码：{p.name} / file is not UTF-8 encoded: {p.name}"
        ) from None
    except OSError as exc:
        raise ScheduleError(
            f"无法读取文件：{p.name}（{exc.strerror}） / "
            f"cannot read file: {p.name} ({exc.strerror})"
        ) from None
    suffix = p.suffix.lower()
    is_json = suffix == ".json" or (suffix != ".csv" and text.lstrip().startswith("{"))
    days = _parse_json(text) if is_json else _parse_csv(text)
    if not days:
        raise ScheduleError("文件中没有任何日期 / the file contains no dates")
    return sorted(days, key=lambda s: s.date)


def _parse_csv(text: str) -> list[ScheduleDay]:
    rows = csv.reader(io.StringIO(text, newline=""))
    header: dict[str, int] | None = None
    seen: dict[date, int] = {}
    out: list[ScheduleDay] = []
    try:
        for row in rows:
            line = rows.line_num
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if header is None:
                names = [_HEADER_ALIASES.get(c.lower()) for c in cells]
                if "date" not in names or "type" not in names:
                    raise ScheduleError(
                        f"第 {line} 行表头应为 date,type,name：{','.join(cells)} / "
                        f"line {line}: header must be date,type,name, got {','.join(cells)}"
                    )
                header = {n: i for i, n in enumerate(names) if n}
                width = len(names)
                continue
            if len(cells) != width:
                raise ScheduleError(
                    f"第 {line} 行应有 {width} 列，实际 {len(cells)} 列 / "
                    f"line {line}: expected {width} columns, got {len(cells)}"
                )
            raw_date = cells[header["date"]]
            d = _parse_date(raw_date)
            if d is None:
                raise ScheduleError(
                    f"第 {line} 行日期无效：{raw_date} / line {line}: invalid date {raw_date}"
                )
            raw_type = cells[header["type"]]
            workday = _TYPES.get(raw_type.lower())
            if workday is None:
                raise ScheduleError(
                    f"第 {line} 行类型无效：{raw_type}（应为 holiday/休 或 workday/班） / "
                    f"line {line}: invalid type {raw_type!r} (expected holiday/休 or workday/班)"
                )
            if d in seen:
                raise ScheduleError(
                    f"第 {line} 行日期重复：{d}（第 {seen[d]} 行已出现） / "
                    f"line {line}: duplicate date {d} (already on line {seen[d]})"
                )
            seen[d] = line
            name = cells[header["name"]] if "name" in header else ""
            out.append(ScheduleDay(d, workday, name))
    except csv.Error as exc:
        line = rows.line_num
        raise ScheduleError(
            f"第 {line} 行 CSV 格式错误：{exc} / line {line}: malformed CSV: {exc}"
        ) from None
    if header is None:
        raise ScheduleError("缺少表头 date,type,name / missing header date,type,name")
    return out


def _parse_json(text: str) -> list[ScheduleDay]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScheduleError(
            f"第 {exc.lineno} 行 JSON 格式错误：{exc.msg} / "
            f"line {exc.lineno}: invalid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise ScheduleError(
            'JSON 顶层应为对象 {"year", "holidays", "workdays"} / '
            'JSON top level must be an object {"year", "holidays", "workdays"}'
        )
    year = data.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise ScheduleError(
            f"字段 year 应为整数：{year!r} / field year must be an integer: {year!r}"
        )
    unknown = sorted(set(data) - {"year", "holidays", "workdays"})
    if unknown:
        raise ScheduleError(
            f"未知字段：{', '.join(unknown)} / unknown fields: {', '.join(unknown)}"
        )
    seen: dict[date, str] = {}
    out: list[ScheduleDay] = []
    for key, workday in (("holidays", False), ("workdays", True)):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise ScheduleError(f"字段 {key} 应为列表 / field {key} must be a list")
        for i, item in enumerate(items):
            where = f"{key}[{i}]"
            if isinstance(item, str):
                item = {"date": item}
            if not isinstance(item, dict) or "date" not in item:
                raise ScheduleError(
                    f"字段 {where} 应为含 date 的对象 / field {where} must be an object with date"
                )
            raw = item["date"]
            d = _parse_date(raw) if isinstance(raw, str) else None
            if d is None:
                raise ScheduleError(
                    f"字段 {where}.date 日期无效：{raw} / field {where}.date: invalid date {raw}"
                )
            if year is not None and abs(d.year - year) > 1:
                raise ScheduleError(
                    f"字段 {where}.date 不属于 {year} 年的放假安排：{d} / "
                    f"field {where}.date: {d} is not part of the {year} schedule"
                )
            name = item.get("name", "")
            if not isinstance(name, str):
                raise ScheduleError(
                    f"字段 {where}.name 应为文本 / field {where}.name must be a string"
                )
            if d in seen:
                raise ScheduleError(
                    f"字段 {where}.date 日期重复：{d}（{seen[d]} 已出现） / "
                    f"field {where}.date: duplicate date {d} (already in {seen[d]})"
                )
            seen[d] = where
            out.append(ScheduleDay(d, workday, name.strip()))
    return out
