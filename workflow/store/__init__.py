"""Where the engine keeps its rows: the database, the tables, Alembic migrations and the
door's prepared statements.

May import ``workflow.base``.
"""
