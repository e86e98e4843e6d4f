"""Process versions (docs/engine.md "Versions"): a changed declaration needs a new version,
and a database recorded before a change that kept what a process does still opens."""

from __future__ import annotations

import sqlalchemy as sa

from machines import definitions
from workflow.engine import Engine
from workflow.models import Definition
from workflow.registry import Registry, fingerprint

#: What each version does, as its fingerprint. A failure here means a declaration changed
#: what it does: give it a new version (keeping the old one), or, when only how it is
#: written changed, list the old value in its ``earlier_fingerprints`` and update it here.
PINNED = {
    ("application", 1): "f24912d75780e1536db32e595022e088576bd4d5ad8e24c5016c63b12840954d",
    ("inquiry", 1): "ef42c9bfbb9bbc5fd1b4ef0371e81bc004a5e28687bfa8476c5576af1d03ee9f",
    ("routine", 1): "4ef1964bf424f7a6aa81eeef0e51d950196bedffc6456de7de4bd8c402341aa9",
    ("catalogue", 1): "05557ced28e6c98ef92ec702544e829101965d25a6d22522b8519af2a95d6613",
}


def test_fingerprints_are_pinned():
    assert {(p.kind, p.version): fingerprint(p) for p in definitions()} == PINNED


def test_a_database_recorded_before_a_rewrite_still_opens(db):
    """The fingerprints recorded before issue 13's routes and shared rules are accepted."""
    registry = Registry(definitions())
    with db.write() as conn:
        for compiled in registry.all():
            earlier, = compiled.process.earlier_fingerprints
            conn.execute(sa.insert(Definition.__table__).values(
                kind=compiled.kind, version=compiled.version, fingerprint=earlier,
                recorded_at=sa.func.now()))
    Engine(db, registry).record_definitions()
    with db.read() as conn:
        kept = {r.fingerprint for r in conn.execute(sa.select(Definition.__table__))}
    assert kept == {fp for c in registry.all() for fp in c.process.earlier_fingerprints}
