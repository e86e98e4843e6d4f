"""The auditor's read models (workflow.views.audit), without the web layer: scope, the
event log's filters and paging, a case's history as of a time, the board as of a time,
checkpoints and published keys. The pages and JSON over them: tests/web/test_audit_desk.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from workflow.audit import signing
from workflow.audit.chain import write_checkpoint
from workflow.base.errors import Forbidden, NotFound
from workflow.base.timeutil import iso_utc
from workflow.views import audit as views

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def keys_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_KEY_DIR", str(tmp_path / "keys"))


@pytest.fixture
def two(engine, people):
    """A case at T submitted and commented on, one at B (outside a T auditor's scope)."""
    handler = people["handler"]
    a = engine.start("sample", "T", handler, {"title": "办公用品"}, at(0))
    engine.fire(a.id, "submit", handler, {"amount": 5}, 1, at(2))
    engine.fire(a.id, "comment", people["member"], {"text": "支持"}, None, at(4))
    b = engine.start("sample", "B", people["stranger"], {"title": "局内事项"}, at(6))
    return {"a": a.id, "b": b.id}


@pytest.fixture
def scope(engine, tree):
    return views.scope_of(engine.db, [tree["T"]])


def test_scope_is_the_subtree_and_no_auditor_has_none(engine, tree, scope):
    assert scope.codes == ["T", "V"] and scope.roots == ("T",)
    assert scope.subtree("V") == ["V"] and scope.depth("T") == 1
    with pytest.raises(NotFound):
        scope.subtree("B")
    with pytest.raises(Forbidden):
        views.scope_of(engine.db, [])
    assert views.scope_of(engine.db, [tree["C"]]).depth("C") == 0


def test_event_log_filters_and_pages_newest_first(engine, two, scope):
    page = views.event_log(engine, scope, views.EventFilters(limit=2))
    assert [(e.case_id, e.seq) for e in page.items] == [(two["a"], 3), (two["a"], 2)]
    assert page.next == page.items[-1].id
    rest = views.event_log(engine, scope, views.EventFilters(after=page.next))
    assert [e.seq for e in rest.items] == [1] and rest.next is None
    first = rest.items[0]
    assert first.case_title == "办公用品" and first.labels.action.en == "Opened"
    by_actor = views.event_log(engine, scope, views.EventFilters(actor="zhao"))
    assert [e.trigger for e in by_actor.items] == ["comment"]
    since = views.event_log(engine, scope, views.EventFilters(since=iso_utc(at(1))))
    assert [e.seq for e in since.items] == [3, 2]
    with pytest.raises(NotFound):
        views.event_log(engine, scope, views.EventFilters(org="B"))


def test_case_history_with_changes_and_as_of(engine, two, scope):
    found = views.case_audit(engine, scope, two["a"], iso_utc(at(3)))
    assert [s.event.seq for s in found.history] == [1, 2, 3]
    assert found.stored is not None and found.stored.state == found.history[-1].state
    amount = [c for c in found.history[1].changes if c.key == "amount"]
    assert amount == [views.Change("amount", "added", None, 5)]
    assert found.rebuilt is not None and found.rebuilt.seq == 2, "as it stood at minute 3"
    assert found.problems == []
    assert found.process.en and found.stored_label.en == found.rebuilt_label.en
    with pytest.raises(NotFound):
        views.case_audit(engine, scope, two["b"], None)


def test_board_as_of_rebuilds_each_case_then(engine, two, scope):
    page = views.board_as_of(engine, scope.subtree("T"), iso_utc(at(1)), None)
    assert [(i.id, i.events) for i in page.items] == [(two["a"], 1)]
    item = page.items[0]
    assert item.rebuilt is not None and item.rebuilt.state != item.state_now
    assert views.board_as_of(engine, ["T"], iso_utc(at(-1)), None).items == []


def test_checkpoints_are_signed_and_keys_published(engine, two, scope):
    signing.add_key(engine.db, "T", now=at(-10))
    write_checkpoint(engine.db, now=at(10))
    page = views.checkpoint_page(engine, scope.subtree(None), None)
    assert [(c.org, c.signed, c.heads) for c in page.items] == [("T", True, 1)]
    assert [k.org for k in page.keys] == ["T"]
    published = views.published_keys(engine.db)
    assert [(p.org, p.latest_checkpoint.seq) for p in published] == [
        ("T", page.items[0].seq)]
    assert views.verify_scope(engine, scope.codes).report.ok
