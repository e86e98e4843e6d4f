"""The declarations themselves: every state cites its rules, and versions (docs/engine.md
"Versions"): a changed declaration needs a new version, and a database recorded before a
change that kept what a process does still opens."""

from __future__ import annotations

import sqlalchemy as sa

from machines import definitions
from workflow.core.engine import Engine
from workflow.core.registry import Registry, fingerprint
from workflow.store.models import Definition

#: What each version does, as its fingerprint. A failure here means a declaration changed
#: what it does: give it a new version (keeping the old one), or, when only how it is
#: written changed or it only gained optional payload fields, list the old value in its
#: ``earlier_fingerprints`` and update it here.
PINNED = {
    ("application", 1): "aef9a7ef9bf9e298f48e68f15a92e0807698b510c0e24eb6b26ed5b22f07fffa",
    ("inquiry", 1): "9de5eb66cafc2230c2b8c690452900ce4a8b2930a0dd4fcedcdb7f48e4bfe8f5",
    ("routine", 1): "5ce69c5af38559e12cfe3d1962cc79817171aee1ef73645f6c0dd3d1ebb81e95",
    ("routine", 2): "bc818eca79dc0f24800dde69ebb84a3451cd8cfad678134c00626b8f29c85d03",
    ("catalogue", 1): "338298e4f6194e05b8308731fd5f8d50a5c9848fcf6dc2bc3722d51ff369c03a",
    ("observer_seats", 1): "087203dd7c6b4d95f17f62f01750fb588932650292348c9dfac81bdb20b7c376",
    ("village_decision", 1): "2acef2d3a04c87cc037bdfbb6d582ba91bf958353b626ffa69b9882636b1b004",
    ("pre_disclosure", 1): "cdea1ddaf268b13f75d39900785658cae7ceaedfff0fcd1ee3c06a141c159928",
    ("annual_report", 1): "88653ffd896fdd13f6621b775d6f471b724e5071068e7bf1e04d55346ab2fa25",
}


def test_every_state_and_trigger_cites_its_rules():
    bare = [f"{p.kind}.{x.name}" for p in definitions() for x in (*p.states, *p.triggers)
            if not x.rules]
    assert bare == []


def test_fingerprints_are_pinned():
    assert {(p.kind, p.version): fingerprint(p) for p in definitions()} == PINNED


def test_a_database_recorded_before_a_rewrite_still_opens(db):
    """The fingerprints recorded before a rewrite (issue 13's routes and shared rules, the
    optional attachment fields, the registration's optional e-mail) are accepted: each
    process's latest earlier one here; a version declared since (routine 2, G11) is
    recorded as it is."""
    registry = Registry(definitions())
    rewritten = [c for c in registry.all() if c.process.earlier_fingerprints]
    with db.write() as conn:
        for compiled in rewritten:
            earlier = compiled.process.earlier_fingerprints[-1]
            conn.execute(sa.insert(Definition.__table__).values(
                kind=compiled.kind, version=compiled.version, fingerprint=earlier,
                recorded_at=sa.func.now()))
    Engine(db, registry).record_definitions()
    with db.read() as conn:
        kept = {r.fingerprint for r in conn.execute(sa.select(Definition.__table__))}
    assert kept == {c.process.earlier_fingerprints[-1] if c in rewritten else c.fingerprint
                    for c in registry.all()}
