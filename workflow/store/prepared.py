"""The door's statements, compiled once per dialect and run on the driver's cursor.

SQLAlchemy's execution path costs more per statement than SQLite spends on it, and the
door runs four to six statements per change (bench/bench_fire.py). A ``Prepared``
statement keeps what SQLAlchemy compiled (the SQL text, the parameter order, the
column types' bind and result processors) and runs it on the DBAPI cursor of the same
connection, so inside the same transaction, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Form:
    sql: str
    #: positional paramstyles (SQLite): each parameter's bind name and processor, in order
    positions: tuple[tuple[str, Processor | None], ...] | None
    binds: dict[str, Processor]  # named paramstyles (PostgreSQL): processors by bind name
    fixed: dict[str, Any]  # values written into the statement (``status == "pending"``)
    names: tuple[str, ...]
    results: tuple[tuple[str, Processor], ...]  # result columns that need converting


class Prepared:
    """One statement; ``keys`` are the columns an INSERT or UPDATE sets from parameters."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str] = ()) -> None:
        self.statement = statement
        self.keys = list(keys)
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = self._compile(dialect)
        return form

    def _compile(self, dialect: Dialect) -> _Form:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.keys or None)
        binds = {name: proc for name, param in compiled.binds.items()
                 if (proc := param.type.dialect_impl(dialect).bind_processor(dialect))}
        selected = getattr(self.statement, "selected_columns", ())
        return _Form(
            sql=compiled.string,
            positions=tuple((name, binds.get(name)) for name in compiled.positiontup)
            if compiled.positional else None,
            binds=binds,
            fixed={name: param.value for name, param in compiled.binds.items()
                   if not param.required},
            names=tuple(c.name for c in selected),
            results=tuple((c.name, proc) for c in selected if (
                proc := c.type.dialect_impl(dialect).result_processor(dialect, None))),
        )

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run with ``params`` (by bind name); returns the driver's cursor."""
        form = self._form(conn.dialect)
        if form.fixed:
            params = form.fixed | dict(params)
        # A None stays None through every processor of SQLAlchemy's types: skip the call.
        if form.positions is not None:
            args: Any = [value if (value := params[name]) is None or proc is None
                         else proc(value) for name, proc in form.positions]
        else:
            procs = form.binds
            args = {name: value if value is None or (proc := procs.get(name)) is None
                    else proc(value) for name, value in params.items()}
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute(form.sql, args)
        return cursor

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        form = self._form(conn.dialect)
        found = [dict(zip(form.names, row, strict=True))
                 for row in self.execute(conn, params).fetchall()]
        for row in found:
            for name, proc in form.results:
                row[name] = proc(row[name])
        return found

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """One execution per row (an INSERT of several timers)."""
        for row in rows:
            self.execute(conn, row)
