"""The door's statements, compiled once per dialect and run on the driver's cursor.

SQLAlchemy's execution path costs more per statement than SQLite spends on it, and the
door runs four to six statements per change (bench/bench_fire.py). A ``Prepared``
statement keeps what SQLAlchemy compiled (the SQL text, the parameter order, the
column types' bind and result processors) and runs it on the DBAPI connection of the
same SQLAlchemy connection, so inside the same transaction, on SQLite and PostgreSQL
alike. On SQLite, aware datetimes are converted by :func:`sqlite_datetime_in` and
:func:`sqlite_datetime_out`, which give what SQLAlchemy's own processors give
(``tests/workflow/test_prepared.py``) in a fifth of the time.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlmodel.sql.sqltypes import UTCDateTime

Processor = Callable[[Any], Any]
UTC = dt.UTC


def sqlite_datetime_in(value: dt.datetime) -> str:
    """An aware datetime as SQLite stores it: UTC, naive, ``YYYY-MM-DD HH:MM:SS.ffffff``
    (``isoformat`` less its ``+00:00``: ``replace(tzinfo=None)`` would cost more)."""
    if value.utcoffset() is None:
        raise ValueError("Datetime values must have timezone information")
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]


def sqlite_datetime_out(text: str) -> dt.datetime:
    """A stored datetime, aware in UTC (read with the offset appended: several times
    faster than reading it naive and setting ``tzinfo``)."""
    try:
        return dt.datetime.fromisoformat(text + "+00:00")
    except ValueError:
        value = dt.datetime.fromisoformat(text)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _processors(type_: Any, dialect: Dialect) -> tuple[Processor | None, Processor | None]:
    """(bind, result) processors of a column type on ``dialect``."""
    if dialect.name == "sqlite" and isinstance(type_, UTCDateTime):
        return sqlite_datetime_in, sqlite_datetime_out
    impl = type_.dialect_impl(dialect)
    return impl.bind_processor(dialect), impl.result_processor(dialect, None)


@dataclass(frozen=True)
class _Form:
    sql: str
    #: positional paramstyles (SQLite): the parameters' values in order, from a mapping
    ordered: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None
    #: positional: (index, processor) of the parameters that need converting
    converted: tuple[tuple[int, Processor], ...]
    binds: dict[str, Processor]  # named paramstyles (PostgreSQL): processors by bind name
    fixed: dict[str, Any]  # values written into the statement (``status == "pending"``)
    names: tuple[str, ...]
    results: tuple[tuple[str, Processor], ...]  # result columns that need converting


def _getter(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``params`` → the values of ``names`` in order, as a tuple (C's itemgetter)."""
    if not names:
        return lambda params: ()
    get = operator.itemgetter(*names)
    return get if len(names) > 1 else (lambda params: (get(params),))


class Prepared:
    """One statement; ``keys`` are the columns an INSERT or UPDATE sets from parameters."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str] = (),
                 expanding: str | None = None) -> None:
        self.statement = statement
        self.keys = list(keys)
        #: the name of an expanding IN parameter (``bindparam(name, expanding=True)``), whose
        #: forms are compiled once per length of the list (:meth:`rows_in`)
        self.expanding = expanding
        self._forms: dict[Any, _Form] = {}

    def _form(self, dialect: Dialect, count: int | None = None) -> _Form:
        key = dialect.name if count is None else (dialect.name, count)
        form = self._forms.get(key)
        if form is None:
            form = self._forms[key] = self._compile(dialect, count)
        return form

    def _compile(self, dialect: Dialect, count: int | None = None) -> _Form:
        statement, kwargs = self.statement, {}
        if count is not None:  # the list's placeholders written out, named <name>_1 …
            statement = statement.params({self.expanding: [None] * count})
            kwargs = {"render_postcompile": True}
        compiled = statement.compile(dialect=dialect, column_keys=self.keys or None,
                                     compile_kwargs=kwargs)
        binds = {name: proc for name, param in compiled.binds.items()
                 if (proc := _processors(param.type, dialect)[0])}
        selected = getattr(self.statement, "selected_columns", ())
        positional = compiled.positiontup if compiled.positional else None
        return _Form(
            sql=compiled.string,
            ordered=_getter(positional) if positional is not None else None,
            converted=tuple((i, binds[name]) for i, name in enumerate(positional or ())
                            if name in binds),
            binds=binds,
            fixed={name: param.value for name, param in compiled.binds.items()
                   if not param.required},
            names=tuple(c.name for c in selected),
            results=tuple((c.name, proc) for c in selected
                          if (proc := _processors(c.type, dialect)[1])),
        )

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run with ``params`` (by bind name); returns the driver's cursor."""
        return self._run(conn, self._form(conn.dialect), params)

    @staticmethod
    def _run(conn: Connection, form: _Form, params: Mapping[str, Any]) -> Any:
        if form.fixed:
            params = form.fixed | dict(params)
        # A None stays None through every processor of SQLAlchemy's types: skip the call.
        if form.ordered is not None:
            args: Any = form.ordered(params)
            if form.converted:
                args = list(args)
                for i, proc in form.converted:
                    if args[i] is not None:
                        args[i] = proc(args[i])
        else:
            procs = form.binds
            args = {name: value if value is None or (proc := procs.get(name)) is None
                    else proc(value) for name, value in params.items()}
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(form.sql, args)
        return cursor

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        form = self._form(conn.dialect)
        return [_converted(form, row) for row in self._run(conn, form, params).fetchall()]

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        form = self._form(conn.dialect)
        row = self._run(conn, form, params).fetchone()
        return None if row is None else _converted(form, row)

    def rows_in(self, conn: Connection, values: Sequence[Any]) -> list[dict[str, Any]]:
        """Rows with the expanding parameter holding ``values`` (a batch's case ids)."""
        form = self._form(conn.dialect, len(values))
        params = {f"{self.expanding}_{n}": value for n, value in enumerate(values, 1)}
        return [_converted(form, row) for row in self._run(conn, form, params).fetchall()]

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """One execution per row (an INSERT of several timers)."""
        for row in rows:
            self.execute(conn, row)


def _converted(form: _Form, values: Sequence[Any]) -> dict[str, Any]:
    """A result row by column name, its values converted by the column types."""
    row = dict(zip(form.names, values, strict=True))
    for name, proc in form.results:
        if (value := row[name]) is not None:
            row[name] = proc(value)
    return row
