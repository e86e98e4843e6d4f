"""Working-day calendar (rule A5: deadlines in working days, day of receipt not counted)."""

from __future__ import annotations

import datetime as dt
import json
from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from workflow.calendar.holidays import (
    MAX_SEARCH_DAYS,
    DayInfo,
    Due,
    ScheduleDay,
    ScheduleError,
    Skipped,
    WorkCalendar,
    official_known,
    official_mapping,
    parse_schedule,
    statutory_holidays,
)

pytestmark = pytest.mark.dates  # swept over several days by make test

D = date.fromisoformat
CAL = WorkCalendar()

# A made-up official schedule for 2027 (the real one is not published yet): it
# differs from the fallback rules on purpose, with two 调休 weekend workdays.
OFFICIAL_2027: dict[date, tuple[bool, str]] = {
    D("2027-01-01"): (False, "元旦"),
    **{D("2027-02-05") + timedelta(days=i): (False, "春节") for i in range(7)},  # 02-05..02-11
    D("2027-02-20"): (True, "春节调休"),  # Saturday
    D("2027-04-05"): (False, "清明节"),
    D("2027-09-26"): (True, "国庆节调休"),  # Sunday
    **{D("2027-10-01") + timedelta(days=i): (False, "国庆节") for i in range(7)},  # 10-01..10-07
    D("2027-10-09"): (True, "国庆节调休"),  # Saturday
}
CAL_2027 = WorkCalendar(official=OFFICIAL_2027)


def days(start: str, end: str) -> list[date]:
    """Inclusive list of dates."""
    a, b = D(start), D(end)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


# --------------------------------------------------------------------------- known examples


def test_a5_receipt_day_not_counted_in_ordinary_week() -> None:
    """A5: the day of receipt is not counted; day 1 is the next working day."""
    due = CAL.add_working_days(D("2026-03-09"), 1)  # Monday
    assert due == Due(D("2026-03-09"), 1, D("2026-03-10"), False, ())
    assert CAL.add_working_days(D("2026-03-09"), 5).due == D("2026-03-16")  # over a weekend
    # Received on a Saturday: Monday is day 1.
    assert CAL.add_working_days(D("2026-03-14"), 1).due == D("2026-03-16")


def test_a5_zero_days_is_start_and_negative_rejected() -> None:
    """A5: n == 0 is the day itself; negative counts are a caller error."""
    assert CAL.add_working_days(D("2026-10-01"), 0) == Due(
        D("2026-10-01"), 0, D("2026-10-01"), False, ()
    )
    assert CAL.subtract_working_days(D("2026-10-01"), 0) == D("2026-10-01")
    with pytest.raises(ValueError, match="不能为负数"):
        CAL.add_working_days(D("2026-10-01"), -1)
    with pytest.raises(ValueError, match="不能为负数"):
        CAL.subtract_working_days(D("2026-10-01"), -1)


def test_a5_national_day_week_2026_skipped() -> None:
    """A5: 2026 国庆 (10-01..10-07) is skipped, with reasons shown to users."""
    due = CAL.add_working_days(D("2026-09-30"), 1)
    assert due.due == D("2026-10-08")
    assert due.skipped == tuple(Skipped(d, "国庆节") for d in days("2026-10-01", "2026-10-07"))
    assert not due.provisional


def test_a5_mid_autumn_2026_skipped() -> None:
    """A5: 2026 中秋 (09-25..09-27) is skipped."""
    due = CAL.add_working_days(D("2026-09-24"), 1)
    assert due.due == D("2026-09-28")
    assert [s.reason for s in due.skipped] == ["中秋节"] * 3


def test_a5_twenty_days_over_national_day_explained() -> None:
    """A5: the explanation names the due date, the count and the skipped holidays."""
    due = CAL.add_working_days(D("2026-09-28"), 20)
    assert due.due == D("2026-10-30")
    assert len(due.skipped) == 12
    zh = due.explain()
    assert zh.startswith(
        "自 2026-09-28 起第 20 个工作日为 2026-10-30，跳过 12 个非工作日（国庆节 7 天"
    )
    assert "暂定" not in zh
    en = due.explain("en")
    assert en.startswith("Working day 20 after 2026-09-28 is 2026-10-30; 12 non-working days")
    assert "National Day ×7" in en
    assert due.to_json()["due"] == "2026-10-30"
    assert due.to_json()["skipped"][0] == {"date": "2026-10-01", "reason": "国庆节"}
    assert json.loads(json.dumps(due.to_json())) == due.to_json()


def test_a5_makeup_saturday_2026_counts_as_working_day() -> None:
    """A5: a 调休 Saturday is a working day and is counted."""
    saturdays = [
        d
        for d in days("2026-01-01", "2026-12-31")
        if d.weekday() == 5 and chinese_calendar.is_workday(d)
    ]
    assert D("2026-10-10") in saturdays
    for sat in saturdays:
        assert CAL.day(sat) == DayInfo(sat, True, "调休上班", False)
        due = CAL.add_working_days(sat - timedelta(days=1), 1)  # received on the Friday
        assert due.due == sat
        assert due.skipped == ()


def test_weekend_reasons_and_ordinary_weekday() -> None:
    assert CAL.day(D("2026-03-14")) == DayInfo(D("2026-03-14"), False, "周六", False)
    assert CAL.day(D("2026-03-15")) == DayInfo(D("2026-03-15"), False, "周日", False)
    assert CAL.day(D("2026-03-16")) == DayInfo(D("2026-03-16"), True, "", False)
    assert CAL.is_workday(D("2026-03-16"))


def test_chinese_calendar_holiday_names_all_translated() -> None:
    """Every holiday name chinese_calendar uses is shown in Chinese."""
    reasons = {CAL.day(d).reason for d in days("2004-01-01", "2026-12-31") if not CAL.is_workday(d)}
    assert reasons == {
        "元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节",
        "抗战胜利70周年纪念日", "周六", "周日",
    }  # fmt: skip
    assert CAL.day(D("2015-09-03")).reason == "抗战胜利70周年纪念日"
    assert CAL.day(D("2026-01-01")).reason == "元旦"
    assert CAL.day(D("2026-02-17")).reason == "春节"
    assert CAL.day(D("2026-04-05")).reason == "清明节"
    assert CAL.day(D("2026-05-01")).reason == "劳动节"
    assert CAL.day(D("2026-06-19")).reason == "端午节"


def test_official_known_years() -> None:
    assert official_known(2026)
    assert official_known(2004)
    assert not official_known(2031)
    assert not official_known(2003)


# --------------------------------------------------------------------------- fallback (2027)


def test_statutory_holidays_2027() -> None:
    """Fallback rules (放假办法 2024): 除夕 is the day before 正月初一 (2027-02-06)."""
    assert statutory_holidays(2027) == {
        D("2027-01-01"): "元旦",
        D("2027-02-05"): "春节",  # 除夕 (腊月廿九)
        D("2027-02-06"): "春节",  # 正月初一
        D("2027-02-07"): "春节",
        D("2027-02-08"): "春节",
        D("2027-04-05"): "清明节",
        D("2027-05-01"): "劳动节",
        D("2027-05-02"): "劳动节",
        D("2027-06-09"): "端午节",
        D("2027-09-15"): "中秋节",
        D("2027-10-01"): "国庆节",
        D("2027-10-02"): "国庆节",
        D("2027-10-03"): "国庆节",
    }


def test_statutory_holidays_match_official_core_days() -> None:
    """The fallback rules agree with the official schedules where both apply (2025, 2026)."""
    for year in (2025, 2026):
        for d in statutory_holidays(year):
            assert not chinese_calendar.is_workday(d), d


def test_statutory_mid_autumn_on_national_day_keeps_both_names() -> None:
    assert statutory_holidays(2028)[D("2028-10-03")] == "中秋节、国庆节"


def test_statutory_holidays_returns_a_copy() -> None:
    statutory_holidays(2027).clear()
    assert len(statutory_holidays(2027)) == 13


def test_a5_2027_spring_festival_provisional() -> None:
    """A5: a year without official data does not fail; 春节 by the lunar rules, provisional."""
    due = CAL.add_working_days(D("2027-02-04"), 1)
    assert due.due == D("2027-02-09")
    assert due.provisional
    assert due.skipped == tuple(Skipped(d, "春节") for d in days("2027-02-05", "2027-02-08"))
    assert due.explain().endswith("（暂定：2027 年官方放假安排尚未发布）")
    assert "provisional: the official 2027 holiday schedule" in due.explain("en")
    assert due.to_json()["provisional"] is True
    assert CAL.day(D("2027-02-06")) == DayInfo(D("2027-02-06"), False, "春节", True)
    assert CAL.day(D("2027-02-09")) == DayInfo(D("2027-02-09"), True, "", True)


def test_a5_2027_qingming_and_national_day_provisional() -> None:
    due = CAL.add_working_days(D("2027-04-02"), 1)
    assert due.due == D("2027-04-06")
    assert [(s.date, s.reason) for s in due.skipped] == [
        (D("2027-04-03"), "周六"),
        (D("2027-04-04"), "周日"),
        (D("2027-04-05"), "清明节"),
    ]
    assert due.provisional
    due = CAL.add_working_days(D("2027-09-30"), 1)
    assert due.due == D("2027-10-04")
    assert due.skipped == tuple(Skipped(d, "国庆节") for d in days("2027-10-01", "2027-10-03"))
    assert due.provisional


def test_a5_provisional_only_when_interval_reaches_unknown_year() -> None:
    assert not CAL.add_working_days(D("2026-12-28"), 3).provisional  # ends 2026-12-31
    due = CAL.add_working_days(D("2026-12-28"), 4)
    assert due.due == D("2027-01-04") and due.provisional
    assert CAL.years_provisional(D("2026-01-01"), D("2027-01-01"))
    assert not CAL.years_provisional(D("2025-01-01"), D("2026-12-31"))
    assert not CAL_2027.years_provisional(D("2026-01-01"), D("2027-12-31"))


# --------------------------------------------------------------------------- official schedule


def test_a5_official_2027_schedule_not_provisional_and_followed() -> None:
    """An imported official schedule overrides the fallback; its 调休 Saturday counts."""
    due = CAL_2027.add_working_days(D("2027-02-04"), 1)
    assert due.due == D("2027-02-12")
    assert not due.provisional
    assert due.skipped == tuple(Skipped(d, "春节") for d in days("2027-02-05", "2027-02-11"))
    assert "暂定" not in due.explain()
    # 2027-02-20 (Saturday) is an official make-up workday: counted.
    assert CAL_2027.day(D("2027-02-20")) == DayInfo(D("2027-02-20"), True, "调休上班", False)
    assert CAL_2027.add_working_days(D("2027-02-19"), 1).due == D("2027-02-20")
    assert CAL.add_working_days(D("2027-02-19"), 1).due == D("2027-02-22")
    # 国庆 per the mapping, and its Saturday make-up workday.
    due = CAL_2027.add_working_days(D("2027-09-30"), 2)
    assert due.due == D("2027-10-09")
    assert not due.provisional


def test_official_year_unlisted_days_are_not_provisional() -> None:
    """Days the import does not list: weekends and statutory days, no longer provisional."""
    assert CAL_2027.day(D("2027-03-01")) == DayInfo(D("2027-03-01"), True, "", False)
    assert CAL_2027.day(D("2027-03-06")) == DayInfo(D("2027-03-06"), False, "周六", False)
    assert CAL_2027.day(D("2027-05-01")) == DayInfo(D("2027-05-01"), False, "劳动节", False)
    assert CAL_2027.day(D("2028-03-01")).provisional  # 2028 not imported


def test_official_mapping_beats_chinese_calendar() -> None:
    cal = WorkCalendar(official={D("2026-10-10"): (False, "国庆节"), D("2026-10-08"): (True, "")})
    assert cal.day(D("2026-10-10")) == DayInfo(D("2026-10-10"), False, "国庆节", False)
    assert cal.day(D("2026-10-08")) == DayInfo(D("2026-10-08"), True, "", False)


# --------------------------------------------------------------------------- org overrides


def test_a5_org_overrides_take_precedence() -> None:
    """Organisation overrides beat everything: a weekday closed, a Saturday opened."""
    cal = WorkCalendar(
        official=OFFICIAL_2027,
        overrides={
            D("2026-03-10"): (False, "搬迁停工"),  # Tuesday
            D("2026-03-14"): (True, "集中办公"),  # Saturday
            D("2026-10-01"): (True, "值班"),  # national holiday
            D("2027-02-20"): (False, "补休"),  # official make-up Saturday
        },
    )
    assert cal.day(D("2026-03-10")) == DayInfo(D("2026-03-10"), False, "单位调整：搬迁停工", False)
    assert cal.day(D("2026-03-14")) == DayInfo(D("2026-03-14"), True, "单位调整：集中办公", False)
    assert cal.is_workday(D("2026-10-01"))
    assert not cal.is_workday(D("2027-02-20"))
    due = cal.add_working_days(D("2026-03-09"), 1)
    assert due.due == D("2026-03-11")
    assert due.skipped == (Skipped(D("2026-03-10"), "单位调整：搬迁停工"),)
    assert cal.add_working_days(D("2026-03-13"), 1).due == D("2026-03-14")
    assert "organisation adjustment: 搬迁停工" in due.explain("en")


def test_a5_endless_holiday_raises_bilingual_error() -> None:
    """Guard: an override closing every day must not hang the timer scheduler."""
    closed = {D("2026-01-01") + timedelta(days=i): (False, "停业") for i in range(4000)}
    cal = WorkCalendar(overrides=closed)
    with pytest.raises(ValueError, match=f"在 {MAX_SEARCH_DAYS} 天内.* / no working day"):
        cal.add_working_days(D("2026-01-01"), 1)
    with pytest.raises(ValueError, match="no working day"):
        cal.subtract_working_days(max(closed), 1)


def test_datetime_rejected() -> None:
    """A datetime would silently never match a date key; use timeutil.local_date."""
    with pytest.raises(TypeError):
        CAL.day(dt.datetime(2026, 10, 1, 9))
    with pytest.raises(TypeError):
        WorkCalendar(overrides={dt.datetime(2026, 10, 1): (True, "x")})


def test_a5_subtract_for_reminders() -> None:
    """Reminders: 5 working days before a due date, skipping holidays."""
    assert CAL.subtract_working_days(D("2026-10-09"), 1) == D("2026-10-08")
    assert CAL.subtract_working_days(D("2026-10-08"), 1) == D("2026-09-30")
    assert CAL.subtract_working_days(D("2026-10-12"), 2) == D("2026-10-09")  # 10-10 is 调休
    assert CAL.subtract_working_days(D("2026-03-14"), 1) == D("2026-03-13")  # from a Saturday
    assert CAL.working_days_between(D("2026-09-30"), D("2026-10-08")) == 1
    assert CAL.working_days_between(D("2026-10-08"), D("2026-09-30")) == 0


# --------------------------------------------------------------------------- properties

starts = st.dates(min_value=D("2004-01-01"), max_value=D("2030-12-31"))
counts = st.integers(min_value=0, max_value=60)
calendars = st.sampled_from([CAL, CAL_2027])


def last_workday_on_or_before(cal: WorkCalendar, d: date) -> date:
    while not cal.is_workday(d):
        d -= timedelta(days=1)
    return d


@given(calendars, starts, counts)
def test_a5_property_due_is_working_day_and_counts_back(
    cal: WorkCalendar, start: date, n: int
) -> None:
    """A5: the due date is a working day, n working days after start."""
    due = cal.add_working_days(start, n)
    if n == 0:
        assert due.due == start and due.skipped == ()
        return
    assert due.due > start
    assert cal.is_workday(due.due)
    assert cal.working_days_between(start, due.due) == n
    assert cal.working_days_between(start, due.due - timedelta(days=1)) == n - 1


@given(calendars, starts, counts)
def test_a5_property_subtract_inverts_add(cal: WorkCalendar, start: date, n: int) -> None:
    """A5: going back n working days from the due date lands on the last working day
    on or before the day of receipt (the receipt day itself is never counted)."""
    due = cal.add_working_days(start, n).due
    back = cal.subtract_working_days(due, n)
    if n == 0:
        assert back == start
    else:
        assert back == last_workday_on_or_before(cal, start)
        assert cal.add_working_days(back, n).due == due


@given(calendars, starts, counts)
def test_a5_property_add_inverts_subtract_on_working_days(
    cal: WorkCalendar, end: date, n: int
) -> None:
    end = last_workday_on_or_before(cal, end)
    back = cal.subtract_working_days(end, n)
    assert back <= end
    assert n == 0 or cal.is_workday(back)
    assert cal.add_working_days(back, n).due == end
    assert cal.working_days_between(back, end) == n


@given(calendars, starts, counts)
def test_a5_property_skipped_are_exactly_non_working_days(
    cal: WorkCalendar, start: date, n: int
) -> None:
    """A5: every non-working day in (start, due] is reported, and nothing else."""
    due = cal.add_working_days(start, n)
    between = [start + timedelta(days=i) for i in range(1, (due.due - start).days + 1)]
    expected = tuple(Skipped(d, cal.day(d).reason) for d in between if not cal.is_workday(d))
    assert due.skipped == expected
    assert all(s.reason for s in due.skipped)


@given(calendars, starts, counts)
def test_a5_property_provisional_iff_unknown_uncovered_year(
    cal: WorkCalendar, start: date, n: int
) -> None:
    """Provisional exactly when (start, due] touches a year neither chinese_calendar
    nor the imported official schedule covers."""
    due = cal.add_working_days(start, n)
    covered = {d.year for d in (OFFICIAL_2027 if cal is CAL_2027 else {})}
    first = start + timedelta(days=1)
    expected = n > 0 and any(
        not official_known(y) and y not in covered for y in range(first.year, due.due.year + 1)
    )
    assert due.provisional is expected
    assert (f"{due.due.year} 年官方放假安排尚未发布" in due.explain()) is (
        expected and not official_known(due.due.year) and due.due.year not in covered
    )


@given(st.dates(min_value=D("2004-01-01"), max_value=D("2026-12-31")))
def test_property_matches_chinese_calendar_in_known_years(d: date) -> None:
    info = CAL.day(d)
    assert info.workday is chinese_calendar.is_workday(d)
    assert not info.provisional


@given(st.dates(min_value=D("2027-01-01"), max_value=D("2099-12-31")))
def test_property_fallback_is_weekends_plus_statutory(d: date) -> None:
    info = CAL.day(d)
    holiday = statutory_holidays(d.year).get(d)
    assert info.provisional
    assert info.workday is (holiday is None and d.weekday() < 5)
    if holiday:
        assert info.reason == holiday


# --------------------------------------------------------------------------- parse_schedule


def test_parse_schedule_csv(tmp_path) -> None:
    path = tmp_path / "2027.csv"
    path.write_text(
        "\ufeffdate,type,name\n"
        "2027-01-01,holiday,元旦\n"
        "\n"
        "2027-02-05,休,春节\n"
        "2027/2/20,班,春节调休\n"
        '2027-10-09,workday,"国庆节调休"\n',
        encoding="utf-8",
    )
    rows = parse_schedule(path)
    assert rows == [
        ScheduleDay(D("2027-01-01"), False, "元旦"),
        ScheduleDay(D("2027-02-05"), False, "春节"),
        ScheduleDay(D("2027-02-20"), True, "春节调休"),
        ScheduleDay(D("2027-10-09"), True, "国庆节调休"),
    ]
    cal = WorkCalendar(official=official_mapping(rows))
    assert cal.add_working_days(D("2027-02-19"), 1).due == D("2027-02-20")
    assert not cal.add_working_days(D("2027-02-19"), 1).provisional


def test_parse_schedule_json(tmp_path) -> None:
    path = tmp_path / "2027.json"
    path.write_text(
        json.dumps(
            {
                "year": 2027,
                "holidays": [{"date": "2027-02-06", "name": "春节"}, {"date": "2027-01-01"}],
                "workdays": [{"date": "2027-02-20", "name": "春节调休"}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert parse_schedule(str(path)) == [
        ScheduleDay(D("2027-01-01"), False, ""),
        ScheduleDay(D("2027-02-06"), False, "春节"),
        ScheduleDay(D("2027-02-20"), True, "春节调休"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "date,type,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,x\n",
            "第 3 行日期无效：2027-13-01 / line 3: invalid date 2027-13-01",
        ),
        ("date,type,name\n2027-01-01,rest,元旦\n", "第 2 行类型无效：rest"),
        ("date,type,name\n2027-01-01,休,元旦\n2027-01-01,班,x\n", "第 3 行日期重复"),
        ("day,kind\n2027-01-01,休\n", "第 1 行表头应为 date,type,name"),
        ("date,type,name\n2027-01-01,休\n", "第 2 行应有 3 列，实际 2 列"),
        ("date,type,name\n", "文件中没有任何日期"),
    ],
)
def test_parse_schedule_csv_errors(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError) as err:
        parse_schedule(path)
    assert message in str(err.value)
    assert " / " in str(err.value)  # Chinese first, then English
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"year": 2027, "holidays": [{"date": "2027-02-30"}]}', "字段 holidays[0].date 日期无效"),
        ('{"year": 2027, "workdays": [{"name": "x"}]}', "字段 workdays[0] 应为含 date 的对象"),
        ('{"year": 2027, "holidays": [{"date": "2072-01-01"}]}', "不属于 2027 年的放假安排"),
        ('{"year": "2027", "holidays": []}', "字段 year 应为整数"),
        ('{"year": 2027, "holiday": []}', "未知字段：holiday"),
        ('{"year": 2027,\n "holidays": [}', "第 2 行 JSON 格式错误"),
        (
            '{"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}',
            "字段 workdays[0].date 日期重复：2027-01-01（holidays[0] 已出现）",
        ),
    ],
)
def test_parse_schedule_json_errors(tmp_path, data: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(data, encoding="utf-8")
    with pytest.raises(ScheduleError) as err:
        parse_schedule(path)
    assert message in str(err.value)


def test_parse_schedule_missing_file(tmp_path) -> None:
    with pytest.raises(ScheduleError, match="无法读取文件：nope.csv"):
        parse_schedule(tmp_path / "nope.csv")


@given(moment=st.datetimes(), minutes=st.one_of(st.none(), st.integers(-14 * 60, 14 * 60)))
@example(moment=dt.datetime(9999, 12, 31, 23, 59, 59), minutes=-14 * 60)
@example(moment=dt.datetime(1, 1, 1), minutes=14 * 60)
@example(moment=dt.datetime(1, 1, 1, 3), minutes=None)
def test_parse_iso_gives_utc_or_refuses_with_a_value_error(moment, minutes):
    """Any ISO time, with an offset or without (Asia/Shanghai), is the same instant in UTC,
    or, at the calendar's edges where UTC cannot hold it, a ValueError (a field error to
    the web layer), never an OverflowError."""
    from workflow.base.timeutil import LOCAL_TZ, parse_iso

    zone = LOCAL_TZ if minutes is None else dt.timezone(timedelta(minutes=minutes))
    text = moment.isoformat() if minutes is None else moment.replace(tzinfo=zone).isoformat()
    try:
        parsed = parse_iso(text)
    except ValueError:
        with pytest.raises(OverflowError):
            moment.replace(tzinfo=zone).astimezone(dt.UTC)
        return
    assert parsed.tzinfo is dt.UTC and parsed == moment.replace(tzinfo=zone)
