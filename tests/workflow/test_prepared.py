"""The door's own datetime conversions on SQLite give exactly what SQLAlchemy's give."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlmodel.sql.sqltypes import UTCDateTime

from workflow.store.prepared import sqlite_datetime_in, sqlite_datetime_out

DIALECT = sqlite.dialect()
IMPL = UTCDateTime().dialect_impl(DIALECT)
BIND = IMPL.bind_processor(DIALECT)
RESULT = IMPL.result_processor(DIALECT, None)

aware = st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9998, 12, 31),
                     timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8)),
                                                dt.timezone(dt.timedelta(hours=-5,
                                                                         minutes=-30))]))


@given(aware)
def test_written_as_sqlalchemy_writes(moment: dt.datetime) -> None:
    assert sqlite_datetime_in(moment) == BIND(moment)


@given(aware)
def test_read_as_sqlalchemy_reads(moment: dt.datetime) -> None:
    stored = BIND(moment)
    read = sqlite_datetime_out(stored)
    assert read == RESULT(stored) == moment
    assert read.tzinfo is dt.UTC and RESULT(stored).tzinfo is dt.UTC


def test_text_without_fraction_or_with_an_offset() -> None:
    assert sqlite_datetime_out("2026-12-06 17:41:56") == dt.datetime(2026, 12, 6, 17, 41, 56,
                                                                     tzinfo=dt.UTC)
    assert sqlite_datetime_out("2026-12-06T17:41:56+08:00") == dt.datetime(
        2026, 12, 6, 9, 41, 56, tzinfo=dt.UTC)


def test_naive_refused() -> None:
    import pytest

    with pytest.raises(ValueError):
        sqlite_datetime_in(dt.datetime(2026, 1, 1))
