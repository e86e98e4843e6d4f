"""The auditor's desk (AU1-AU4, G15): read-only pages and JSON over the event log.

Auditors (the ``auditor`` role; the discipline committee's people hold it) see, within
the subtrees where they hold the role: the event log with filters; a case's history
with each event's data change as a diff and the case as it stood at any time (rebuilt
by replay); an organisation's whole board as it stood at a time; "verify now" with the
result per case; the checkpoints with their signatures and witness copies; and bundle
downloads, full or redacted. Anything outside their scope is 404; nothing here writes.

The public keys page (``/board/keys``, and ``GET /api/v1/audit/keys``) needs no
account: anyone handed a checkpoint can check its signature against it (AU3).

Routes only translate (STYLE.md); the work is ``workflow.audit.chain``, ``workflow.audit.bundle``
and ``workflow.audit.signing``.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    render_template,
    request,
    send_file,
)
from flask_login import login_required

from web.auth import current_account
from web.extensions import csrf, limiter
from web.i18n import pick
from web.openapi import Param, Routes, register
from web.views import engine
from workflow.audit import chain as audit
from workflow.audit import signing
from workflow.audit.chain import Verifier, case_events, case_events_until, checkpoints, copies
from workflow.base.errors import Forbidden, Invalid, NotFound
from workflow.base.text import Text
from workflow.base.timeutil import end_of_local_day, iso_utc, local_date, parse_iso, utcnow
from workflow.core.engine import Engine, cases, event_label, events, orgs
from workflow.store.models import Checkpoint

bp = Blueprint("audit", __name__, url_prefix="/audit")
keys_bp = Blueprint("audit_keys", __name__)

PAGE = 50
MAX_LIMIT = 200
MAX_LISTED = 500  # cases listed one by one on the verify page
NOT_AUDITOR = Text("只有审计员可以查看审计台", "Only auditors may use the audit desk")
BAD_TIME = Text("时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM",
                "Time must be YYYY-MM-DD or YYYY-MM-DDTHH:MM")
BAD_CURSOR = Text("翻页标记无效", "Invalid page cursor")
LIMIT_RANGE = Text("应为 1 到 {n} 之间的整数", "Must be a whole number from 1 to {n}")
UNKNOWN_ORG = Text("不在您的审计范围内的组织", "An organisation outside your audit scope")


# -- scope ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The organisations an auditor sees: code -> (name, path), and the roots."""

    orgs: Mapping[str, tuple[str, str]]
    roots: tuple[str, ...]

    @property
    def codes(self) -> list[str]:
        return sorted(self.orgs)

    def subtree(self, code: str | None) -> list[str]:
        """``code``'s subtree within the scope (all of it for None); 404 outside."""
        if not code:
            return self.codes
        if code not in self.orgs:
            raise NotFound(UNKNOWN_ORG)
        path = self.orgs[code][1]
        return sorted(c for c, (_n, p) in self.orgs.items() if p.startswith(path))

    def holds(self, org_code: str | None) -> bool:
        return org_code in self.orgs


def scope_of(account) -> Scope:
    paths = account.orgs_with("auditor") if account else []
    if not paths:
        raise Forbidden(NOT_AUDITOR)
    with engine().db.read() as conn:
        rows = conn.execute(sa.select(orgs.c.code, orgs.c.name, orgs.c.path).where(
            sa.or_(*[orgs.c.path.startswith(p) for p in paths])).order_by(orgs.c.path)).all()
    found = {r.code: (r.name, r.path) for r in rows}
    roots = tuple(r.code for r in rows if r.path in paths)
    return Scope(found, roots)


def _time(text: str | None, end_of_day: bool = False) -> str | None:
    """A form's date or date-time (Asia/Shanghai unless it says otherwise) as the
    canonical UTC text events carry; a date alone means its start (or its end)."""
    if not text:
        return None
    text = text.strip()
    try:
        if end_of_day and len(text) == 10:
            return iso_utc(end_of_local_day(dt.date.fromisoformat(text)) -
                           dt.timedelta(microseconds=1))
        return iso_utc(parse_iso(text))
    except ValueError:
        raise Invalid(fields={"time": BAD_TIME}) from None


# -- the event log ------------------------------------------------------------------------


@dataclass(frozen=True)
class EventFilters:
    org: str | None = None
    kind: str | None = None
    case: str | None = None
    actor: str | None = None
    trigger: str | None = None
    since: str | None = None
    until: str | None = None
    after: int | None = None
    limit: int = PAGE

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> EventFilters:
        fields: dict[str, Text] = {}
        after = args.get("after") or None
        if after is not None and not after.isdigit():
            fields["after"] = BAD_CURSOR
        limit = PAGE
        if args.get("limit"):
            limit = int(args["limit"]) if args["limit"].isdigit() else 0
            if not 1 <= limit <= MAX_LIMIT:
                fields["limit"] = LIMIT_RANGE.format(n=MAX_LIMIT)
        since = until = None
        try:
            since = _time(args.get("since"))
        except Invalid:
            fields["since"] = BAD_TIME
        try:
            until = _time(args.get("until"), end_of_day=True)
        except Invalid:
            fields["until"] = BAD_TIME
        if fields:
            raise Invalid(fields=fields)
        pick_ = {k: (args.get(k) or "").strip() or None
                 for k in ("org", "kind", "case", "actor", "trigger")}
        return cls(**pick_, since=since, until=until,
                   after=int(after) if after else None, limit=limit)

    def query_args(self) -> dict[str, Any]:
        return {k: v for k, v in (("org", self.org), ("kind", self.kind), ("case", self.case),
                                  ("actor", self.actor), ("trigger", self.trigger))
                if v}


def actor_label(text: str) -> str:
    """``li`` means the user li; ``user:li``, ``applicant:…``, ``system`` as written."""
    return text if ":" in text or text in ("system",) else f"user:{text}"


def event_log(eng: Engine, scope: Scope, f: EventFilters) -> tuple[list[dict], int | None]:
    """One page of events, newest first (keyset on the event's row id)."""
    codes = scope.subtree(f.org)
    query = (sa.select(events.c.id, *[events.c[n] for n in audit.EVENT_COLUMNS],
                       cases.c.code.label("case_code"), cases.c.title.label("case_title"))
             .outerjoin(cases, cases.c.id == events.c.case_id)
             .where(events.c.org.in_(codes)))
    if f.kind:
        query = query.where(events.c.kind == f.kind)
    if f.case:
        if f.case.isdigit():
            query = query.where(events.c.case_id == int(f.case))
        else:
            query = query.where(cases.c.code == f.case.upper())
    if f.actor:
        query = query.where(events.c.actor == actor_label(f.actor))
    if f.trigger:
        query = query.where(events.c.trigger == f.trigger)
    if f.since:
        query = query.where(events.c.at >= f.since)
    if f.until:
        query = query.where(events.c.at <= f.until)
    if f.after:
        query = query.where(events.c.id < f.after)
    with eng.db.read() as conn:
        rows = conn.execute(query.order_by(events.c.id.desc()).limit(f.limit + 1)).all()
    items = [dict(r._mapping) for r in rows[:f.limit]]
    return items, (items[-1]["id"] if len(rows) > f.limit else None)


def labels(eng: Engine, ev: Mapping[str, Any]) -> dict[str, Any]:
    """The event's process, action and state labels (raw names for an unknown version)."""
    try:
        compiled = eng.registry.get(ev["kind"], ev["def_version"])
    except KeyError:
        raw = Text(ev["trigger"], ev["trigger"])
        return {"process": Text(ev["kind"], ev["kind"]), "action": raw,
                "from": Text(ev["from_state"] or "", ev["from_state"] or ""),
                "to": Text(ev["to_state"], ev["to_state"])}

    def state(name: str | None) -> Text:
        if name is None:
            return Text("", "")
        try:
            return compiled.state(name).label
        except KeyError:
            return Text(name, name)

    return {"process": compiled.process.label, "action": event_label(compiled, ev["trigger"]),
            "from": state(ev["from_state"]), "to": state(ev["to_state"])}


def event_json(eng: Engine, ev: Mapping[str, Any], language: str) -> dict[str, Any]:
    named = labels(eng, ev)
    return {
        "id": ev.get("id"), "case_id": ev["case_id"], "case_code": ev.get("case_code"),
        "seq": ev["seq"], "at": ev["at"], "org": ev["org"], "kind": ev["kind"],
        "def_version": ev["def_version"], "trigger": ev["trigger"],
        "label": named["action"].get(language), "actor": ev["actor"],
        "from_state": ev["from_state"], "to_state": ev["to_state"],
        "payload": json.loads(ev["payload"]) if ev["payload"] is not None else None,
        "payload_digest": ev["payload_digest"], "prev_hash": ev["prev_hash"],
        "hash": ev["hash"],
    }


# -- one case: history with diffs, as of a time, its problems --------------------------------


MISSING = object()


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What an event changed in the case data: added, changed and removed keys."""
    found = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, MISSING), after.get(key, MISSING)
        if old == new:
            continue
        kind = "added" if old is MISSING else "removed" if new is MISSING else "changed"
        found.append({"key": key, "kind": kind,
                      "before": None if old is MISSING else old,
                      "after": None if new is MISSING else new})
    return found


@dataclass
class CaseAudit:
    case_id: int
    org: str
    stored: dict[str, Any] | None
    events: list[dict[str, Any]]
    history: list[dict[str, Any]]
    problems: list[audit.Problem]
    as_of: str | None
    rebuilt: audit.Rebuilt | None
    rebuilt_error: Text | None


def case_audit(eng: Engine, scope: Scope, case_id: int, as_of: str | None) -> CaseAudit:
    """The case's events, history, problems and, with ``as_of``, the case at that time.
    A case row deleted behind the engine's back still shows through its events."""
    with eng.db.read() as conn:
        row = conn.execute(sa.select(cases, orgs.c.code.label("org_code"))
                           .join(orgs, orgs.c.id == cases.c.org_id)
                           .where(cases.c.id == case_id)).first()
    rows = case_events(eng.db, case_id)
    org = row.org_code if row is not None else (rows[0]["org"] if rows else None)
    if org is None or not scope.holds(org):
        raise NotFound()
    stored = None
    if row is not None:
        stored = {"id": row.id, "code": row.code, "title": row.title, "kind": row.kind,
                  "def_version": row.def_version, "org": row.org_code, "state": row.state,
                  "version": row.version, "seq": row.seq, "head_hash": row.head_hash,
                  "data": json.loads(row.data)}
    steps = audit.replay_steps(rows, eng.registry)
    history, before = [], {}
    for ev, (rebuilt, error) in zip(rows, steps, strict=True):
        after = rebuilt.data if rebuilt is not None else None
        history.append({"event": ev, "labels": labels(eng, ev),
                        "payload": json.loads(ev["payload"]),
                        "changes": changes(before, after) if after is not None else None,
                        "state": rebuilt.state if rebuilt else None, "error": error})
        before = after if after is not None else before
    rebuilt = error = None
    if as_of is not None:
        until = case_events_until(eng.db, case_id, as_of)
        if until:
            rebuilt, error = steps[len(until) - 1]
    return CaseAudit(case_id, org, stored, rows, history,
                     case_problems(eng, case_id, org, rows, stored), as_of, rebuilt, error)


def case_problems(eng: Engine, case_id: int, org: str, rows: list[dict[str, Any]],
                  stored: Mapping[str, Any] | None) -> list[audit.Problem]:
    """This case's chain and replay, and its head in its organisation's last checkpoint
    (taken as a base: the organisation's other cases are not looked at)."""
    verifier = Verifier(eng.registry)
    with eng.db.read() as conn:
        last = conn.execute(sa.select(checkpoints).where(checkpoints.c.org == org)
                            .order_by(checkpoints.c.seq.desc()).limit(1)).first()
    if last is not None:
        verifier.bases = {last.seq}
        verifier.checkpoints([dict(last._mapping)])
        verifier.report.problems.clear()  # the checkpoint's own findings: the checkpoints page
    check = dict(stored) if stored is not None else None
    verifier.case(case_id, rows, check)
    return [p for p in verifier.finish().problems if p.case_id == case_id]


def problem_json(p: audit.Problem, language: str) -> dict[str, Any]:
    return {"case_id": p.case_id, "seq": p.seq, "code": p.code, "org": p.org,
            "message": p.message.get(language)}


def rebuilt_json(rebuilt: audit.Rebuilt | None) -> dict[str, Any] | None:
    if rebuilt is None:
        return None
    return {"state": rebuilt.state, "version": rebuilt.version, "seq": rebuilt.seq,
            "head_hash": rebuilt.head_hash, "title": rebuilt.title, "data": rebuilt.data}


# -- the board as of a time ------------------------------------------------------------------


def board_as_of(eng: Engine, codes: Collection[str], at: str, after: int | None
                ) -> tuple[list[dict[str, Any]], int | None]:
    """The cases of these organisations that existed at ``at``, each rebuilt by replay as
    it stood then, by case id (keyset)."""
    first = events.alias("first_event")
    query = (sa.select(cases.c.id, cases.c.code, cases.c.title, cases.c.state, cases.c.kind,
                       cases.c.def_version, orgs.c.code.label("org"))
             .join(orgs, orgs.c.id == cases.c.org_id)
             .join(first, sa.and_(first.c.case_id == cases.c.id, first.c.seq == 1))
             .where(orgs.c.code.in_(sorted(codes)), first.c.at <= at))
    if after:
        query = query.where(cases.c.id > after)
    with eng.db.read() as conn:
        rows = conn.execute(query.order_by(cases.c.id).limit(PAGE + 1)).all()
    items = []
    for r in rows[:PAGE]:
        then = case_events_until(eng.db, r.id, at)
        try:
            rebuilt, error = audit.replay(then, eng.registry), None
        except (audit.ReplayError, KeyError) as exc:
            rebuilt = None
            error = exc.reason if isinstance(exc, audit.ReplayError) else Text(
                "未知流程或版本", "unknown process or version")
        items.append({"id": r.id, "code": r.code, "title": r.title, "org": r.org,
                      "kind": r.kind, "def_version": r.def_version, "state_now": r.state,
                      "rebuilt": rebuilt, "error": error, "events": len(then)})
    return items, (items[-1]["id"] if len(rows) > PAGE else None)


def state_label(eng: Engine, kind: str, version: int, state: str | None) -> Text:
    if state is None:
        return Text("—", "—")
    try:
        return eng.registry.get(kind, version).state(state).label
    except KeyError:
        return Text(state, state)


# -- verify now -------------------------------------------------------------------------------


def verify_scope(eng: Engine, codes: list[str]) -> dict[str, Any]:
    report = audit.verify(eng.db, eng.registry, scope=codes, collect=True)
    by_case: dict[int, list[audit.Problem]] = {}
    for p in report.problems:
        if p.case_id is not None:
            by_case.setdefault(p.case_id, []).append(p)
    ids = sorted(set(report.case_ids) | set(by_case))
    with eng.db.read() as conn:
        named = {r.id: r for r in conn.execute(
            sa.select(cases.c.id, cases.c.code, cases.c.title, orgs.c.code.label("org"))
            .join(orgs, orgs.c.id == cases.c.org_id)
            .where(cases.c.id.in_(sorted(by_case) + ids[:MAX_LISTED])))}
    listed = sorted(by_case) + [i for i in ids if i not in by_case][:MAX_LISTED]
    rows = [{"id": i, "code": named[i].code if i in named else None,
             "title": named[i].title if i in named else "",
             "org": named[i].org if i in named else None,
             "ok": i not in by_case, "problems": by_case.get(i, [])} for i in listed]
    return {"report": report, "cases": rows, "all_ids": ids, "by_case": by_case,
            "org_problems": [p for p in report.problems if p.case_id is None]}


# -- checkpoints with their signature and witness status -----------------------------------


def checkpoint_rows(eng: Engine, codes: list[str], after: int | None
                    ) -> tuple[list[dict[str, Any]], int | None, dict[str, Any]]:
    with eng.db.read() as conn:
        keys = signing.keys_by_org(conn)
        rows = conn.execute(sa.select(checkpoints).where(checkpoints.c.org.in_(codes))
                            .where(checkpoints.c.seq < after if after else sa.true())
                            .order_by(checkpoints.c.seq.desc()).limit(PAGE + 1)).all()
        held: dict[int, list[Any]] = {}
        for c in conn.execute(sa.select(copies).where(
                copies.c.seq.in_([r.seq for r in rows]))):
            held.setdefault(c.seq, []).append(c)
    items = []
    for r in rows[:PAGE]:
        key = keys.get(r.org, {}).get(r.key_id) if r.key_id else None
        signed = bool(key and key.active_at(r.at) and signing.verify_signature(
            key.public_key, r.signature, signing.checkpoint_statement(r.org, r.seq, r.hash)))
        witnesses = []
        for c in held.get(r.seq, []):
            same = all(getattr(c, f) == getattr(r, f) for f in audit.WITNESSED)
            wkey = keys.get(c.holder, {}).get(c.witness_key_id) if c.witness_key_id else None
            countersigned = bool(wkey and signing.verify_signature(
                wkey.public_key, c.witness_signature,
                signing.witness_statement(r.org, r.seq, r.hash, c.holder)))
            witnesses.append({"holder": c.holder, "same": same,
                              "countersigned": countersigned})
        items.append({"row": r, "heads": sum(1 for h in json.loads(r.heads) if h[1] is not None),
                      "signed": signed, "witnesses": witnesses})
    return items, (items[-1]["row"].seq if len(rows) > PAGE else None), keys


# -- pages ------------------------------------------------------------------------------------


def _desk() -> Scope:
    return scope_of(current_account())


def _org_choices(scope: Scope) -> list[tuple[str, str, int]]:
    """(code, name, depth) for the organisation selects, in tree order."""
    return [(code, name, path.count("/") - 2) for code, (name, path) in
            sorted(scope.orgs.items(), key=lambda item: item[1][1])]


@bp.get("/")
@login_required
def events_page():
    scope = _desk()
    try:
        filters = EventFilters.from_args(request.args)
        items, after = event_log(engine(), scope, filters)
        error = None
    except Invalid as exc:
        filters, items, after = EventFilters(), [], None
        error = exc.fields
    eng = engine()
    return render_template("audit_events.html", scope=scope, filters=filters,
                           items=[{**ev, "labels": labels(eng, ev)} for ev in items],
                           next=after, orgs=_org_choices(scope), errors=error or {},
                           args=request.args, processes=eng.registry.latest(),
                           tab="events"), (422 if error else 200)


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    scope = _desk()
    try:
        as_of = _time(request.args.get("as_of"))
    except Invalid:
        as_of = None
    found = case_audit(engine(), scope, case_id, as_of)
    eng = engine()
    kind = found.stored["kind"] if found.stored else found.events[0]["kind"]
    version = found.stored["def_version"] if found.stored else found.events[0]["def_version"]
    bad_seqs = {p.seq for p in found.problems if p.seq is not None}
    return render_template(
        "audit_case.html", scope=scope, case=found, tab="events", bad_seqs=bad_seqs,
        process=labels(eng, found.events[0])["process"] if found.events else Text(kind, kind),
        stored_label=state_label(eng, kind, version,
                                 found.stored["state"] if found.stored else None),
        rebuilt_label=state_label(eng, kind, version,
                                  found.rebuilt.state if found.rebuilt else None),
        as_of_text=request.args.get("as_of", ""))


@bp.get("/board")
@login_required
def board_page():
    scope = _desk()
    org = request.args.get("org") or (scope.roots[0] if scope.roots else None)
    at_text = request.args.get("at") or ""
    items, after, error = [], None, None
    at = None
    if at_text:
        try:
            at = _time(at_text, end_of_day=True)
        except Invalid:
            error = pick(BAD_TIME)
    if at:
        items, after = board_as_of(engine(), scope.subtree(org), at,
                                   int(request.args["after"]) if request.args.get(
                                       "after", "").isdigit() else None)
    eng = engine()
    for item in items:
        item["then_label"] = state_label(eng, item["kind"], item["def_version"],
                                         item["rebuilt"].state if item["rebuilt"] else None)
        item["now_label"] = state_label(eng, item["kind"], item["def_version"],
                                        item["state_now"])
    return render_template("audit_board.html", scope=scope, orgs=_org_choices(scope),
                           org=org, at_text=at_text, at=at, items=items, next=after,
                           error=error, tab="board")


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify_page():
    scope = _desk()
    org = request.values.get("org") or ""
    result = None
    if request.method == "POST":
        result = verify_scope(engine(), scope.subtree(org or None))
    return render_template("audit_verify.html", scope=scope, orgs=_org_choices(scope),
                           org=org, result=result, tab="verify", max_listed=MAX_LISTED)


@bp.get("/checkpoints")
@login_required
def checkpoints_page():
    scope = _desk()
    org = request.args.get("org") or ""
    codes = scope.subtree(org or None)
    after = int(request.args["after"]) if request.args.get("after", "").isdigit() else None
    items, next_after, keys = checkpoint_rows(engine(), codes, after)
    shown = [k for code in codes for k in sorted(keys.get(code, {}).values(),
                                                 key=lambda k: k.added_seq)]
    return render_template("audit_checkpoints.html", scope=scope, orgs=_org_choices(scope),
                           org=org, items=items, next=next_after, keys=shown,
                           tab="checkpoints")


@bp.get("/export")
@login_required
def export_page():
    scope = _desk()
    return render_template("audit_export.html", scope=scope, orgs=_org_choices(scope),
                           tab="export")


@bp.get("/export/bundle")
@login_required
def export_bundle():
    """A bundle of the auditor's scope (or a subtree of it): full or redacted (AU4)."""
    scope = _desk()
    org = request.args.get("org") or scope.roots[0]
    if not scope.holds(org):
        raise NotFound(UNKNOWN_ORG)
    org_arg = None if _is_root(org) else org  # the whole tree: old global checkpoints too
    since = request.args.get("since") or None
    try:
        since_at = parse_iso(since) if since else None
    except ValueError:
        raise Invalid(fields={"since": BAD_TIME}) from None
    redacted = request.args.get("redacted") == "1"
    from workflow.audit.bundle import export

    with tempfile.TemporaryDirectory() as where:
        path = Path(where) / "bundle.jsonl.gz"
        export(engine().db, path, redacted=redacted, org=org_arg, since=since_at)
        stream = path.open("rb")  # still readable once the directory is gone (POSIX)
    form = "redacted" if redacted else "full"
    name = f"gongkai-audit-{org}-{form}-{local_date(utcnow()).isoformat()}.jsonl.gz"
    return send_file(stream, mimetype="application/gzip", as_attachment=True,
                     download_name=name)


def _is_root(code: str) -> bool:
    with engine().db.read() as conn:
        return conn.execute(sa.select(orgs.c.parent_id).where(orgs.c.code == code)
                            ).scalar() is None


# -- the published keys (no account needed) ---------------------------------------------------


def published_keys(eng: Engine) -> list[dict[str, Any]]:
    """Every organisation's keys and its latest checkpoint (hash and signature)."""
    cp = Checkpoint.__table__
    with eng.db.read() as conn:
        keys = signing.keys_by_org(conn)
        names = dict(conn.execute(sa.select(orgs.c.code, orgs.c.name)).all())
        latest = (sa.select(sa.func.max(cp.c.seq)).where(cp.c.org.is_not(None))
                  .group_by(cp.c.org))
        last = {r.org: r for r in conn.execute(
            sa.select(cp.c.org, cp.c.seq, cp.c.at, cp.c.hash, cp.c.key_id, cp.c.signature)
            .where(cp.c.seq.in_(latest)))}
    found = []
    for code in sorted(keys):
        latest_cp = last.get(code)
        found.append({
            "org": code, "name": names.get(code, code),
            "keys": [k.as_json() for k in sorted(keys[code].values(),
                                                 key=lambda k: k.added_seq)],
            "latest_checkpoint": None if latest_cp is None else {
                "seq": latest_cp.seq, "at": latest_cp.at, "hash": latest_cp.hash,
                "key_id": latest_cp.key_id, "signature": latest_cp.signature},
        })
    return found


@keys_bp.get("/board/keys")
def keys_page():
    return render_template("audit_keys.html", orgs=published_keys(engine()))


# -- the JSON API ------------------------------------------------------------------------------


def _api_scope() -> Scope:
    return scope_of(g.account)


def register_api(app: Flask) -> None:
    """``/api/v1/audit/…``, documented in the API's OpenAPI document."""
    from web import api as api_module

    api = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
    routes = Routes(api, api_module.token_required, {
        "case_id": (Text("事项编号（`id`）", "Case id"), {"minimum": 1})}, SCHEMAS)

    @api.errorhandler(Forbidden)
    @api.errorhandler(NotFound)
    @api.errorhandler(Invalid)
    def _error(exc):
        return exc.as_json(api_module.lang()), exc.status

    @routes.route("/events", summary=Text("审计：事件日志", "Audit: the event log"), tag="audit",
                  description=Text("审计范围内的事件，新的在前；按键值翻页：把 `next` 作为下一次的 "
                                   "`after`。需要审计员角色。",
                                   "Events within the auditor's scope, newest first; keyset "
                                   "paging: pass `next` as `after`. Needs the auditor role."),
                  params=EVENT_PARAMS, response="AuditEventPage",
                  errors=("forbidden", "not_found", "invalid"))
    def audit_events():
        scope = _api_scope()
        filters = EventFilters.from_args(request.args)
        items, after = event_log(engine(), scope, filters)
        language = api_module.lang()
        return {"items": [event_json(engine(), ev, language) for ev in items],
                "next": str(after) if after else None}

    @routes.route("/cases/<int:case_id>", tag="audit",
                  summary=Text("审计：事项历史与时点状态", "Audit: a case's history, as of a time"),
                  description=Text(
                      "每个事件及其造成的数据变化；`as_of` 给出时按事件重放出当时的事项；"
                      "`problems` 为该事项的校验结果。",
                      "Every event with the data change it made; with `as_of`, the case "
                      "rebuilt by replay as it stood then; `problems`: this case's findings."),
                  params=(Param("as_of", {"type": "string"}, Text(
                      "ISO 时间（无时区按北京时间）", "ISO time (Asia/Shanghai if no zone)")),),
                  response="AuditCase", errors=("forbidden", "not_found", "invalid"))
    def audit_case(case_id: int):
        scope = _api_scope()
        try:
            as_of = _time(request.args.get("as_of"))
        except Invalid:
            raise Invalid(fields={"as_of": BAD_TIME}) from None
        found = case_audit(engine(), scope, case_id, as_of)
        language = api_module.lang()
        return {
            "case_id": case_id, "org": found.org, "stored": found.stored,
            "as_of": as_of, "rebuilt": rebuilt_json(found.rebuilt),
            "rebuilt_error": found.rebuilt_error.get(language) if found.rebuilt_error
            else None,
            "events": [event_json(engine(), h["event"], language) | {
                "state_after": h["state"], "changes": h["changes"]} for h in found.history],
            "problems": [problem_json(p, language) for p in found.problems],
        }

    @routes.route("/verify", "POST", tag="audit",
                  summary=Text("审计：立即校验", "Audit: verify now"),
                  description=Text("校验审计范围（或其中一个组织及其下级）的哈希链、检查点、签名、"
                                   "上级副本和重放结果，逐案给出结果。",
                                   "Checks chains, checkpoints, signatures, witness copies and "
                                   "replay over the auditor's scope (or one organisation's "
                                   "subtree in it), with the result per case."),
                  body="AuditVerifyRequest", response="AuditReport",
                  errors=("forbidden", "not_found", "invalid"))
    def audit_verify():
        scope = _api_scope()
        body = api_module.json_body(("org",))
        org = body.get("org")
        if org is not None and not isinstance(org, str):
            raise Invalid(fields={"org": api_module.NOT_TEXT})
        codes = scope.subtree(org or None)
        result = verify_scope(engine(), codes)
        language = api_module.lang()
        report = result["report"]
        return {
            "ok": report.ok, "scope": codes, "cases": report.cases, "events": report.events,
            "checkpoints": report.checkpoints, "signed": report.signed,
            "ledger_events": report.ledger_events,
            "problems": [problem_json(p, language) for p in report.problems],
            "results": [{"case_id": i, "ok": i not in result["by_case"]}
                        for i in result["all_ids"]],
        }

    @routes.route("/keys", tag="audit", auth=False,
                  summary=Text("各组织公布的签名公钥", "Organisations' published signing keys"),
                  description=Text("无需令牌：任何人可用它核对手中检查点的签名（AU3）。",
                                   "No token needed: anyone can check the signature of a "
                                   "checkpoint they were given (AU3)."),
                  response="PublishedKeys")
    def audit_keys():
        return {"items": published_keys(engine())}

    limiter.shared_limit(
        lambda: current_app.config.get("API_RATE_LIMIT", api_module.DEFAULT_RATE_LIMIT),
        scope="api", key_func=api_module._rate_key)(api)
    csrf.exempt(api)
    app.register_blueprint(api)
    register(app, routes)


STR = {"type": "string"}
INT = {"type": "integer"}
OPT_STR = {"type": ["string", "null"]}
OPT_INT = {"type": ["integer", "null"]}
BOOL = {"type": "boolean"}


def _obj(props: Mapping[str, Any], required: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": dict(props),
            "required": list(props if required is None else required),
            "additionalProperties": False}


def _d(schema: Mapping[str, Any], zh: str, en: str) -> dict[str, Any]:
    return {**schema, "description": Text(zh, en)}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


PROBLEM = _obj({
    "case_id": OPT_INT, "seq": OPT_INT,
    "code": _d(STR, "问题代码（见 docs/audit-format.md）", "Problem code (docs/audit-format.md)"),
    "org": _d(OPT_STR, "检查点与组织台账的问题所属组织", "Organisation of a checkpoint or ledger "
              "problem"),
    "message": STR,
})

AUDIT_EVENT = _obj({
    "id": _d(OPT_INT, "事件行号（翻页用）", "Row id (for paging)"),
    "case_id": INT, "case_code": OPT_STR, "seq": INT,
    "at": _d(STR, "时间（UTC，ISO-8601，以 Z 结尾）", "Time (UTC ISO-8601, Z)"),
    "org": STR, "kind": STR, "def_version": INT, "trigger": STR, "label": STR, "actor": STR,
    "from_state": OPT_STR, "to_state": STR,
    "payload": _d({"type": ["object", "null"]}, "操作内容（含内部键）",
                  "Payload (internal keys included)"),
    "payload_digest": STR, "prev_hash": STR, "hash": STR,
})

SCHEMAS: dict[str, Any] = {
    "AuditProblem": PROBLEM,
    "AuditEvent": AUDIT_EVENT,
    "AuditEventPage": _obj({
        "items": {"type": "array", "items": _ref("AuditEvent")},
        "next": _d(OPT_STR, "下一页的 `after` 值", "The `after` value of the next page"),
    }),
    "AuditCase": _obj({
        "case_id": INT, "org": STR,
        "stored": _d({"type": ["object", "null"]}, "数据库中的事项记录（投影）",
                     "The stored case row (the projection)"),
        "as_of": OPT_STR,
        "rebuilt": _d({"type": ["object", "null"]}, "按事件重放出的 as_of 时的事项",
                      "The case rebuilt by replay as of `as_of`"),
        "rebuilt_error": OPT_STR,
        "events": {"type": "array", "items": {"allOf": [_ref("AuditEvent")], "properties": {
            "state_after": OPT_STR,
            "changes": {"type": ["array", "null"], "items": _obj({
                "key": STR, "kind": {"type": "string", "enum": ["added", "changed", "removed"]},
                "before": {}, "after": {}})}}}},
        "problems": {"type": "array", "items": _ref("AuditProblem")},
    }),
    "AuditVerifyRequest": _obj({"org": _d(OPT_STR, "组织代码（缺省为整个审计范围）",
                                          "Organisation code (default: the whole scope)")},
                               required=()),
    "AuditReport": _obj({
        "ok": BOOL, "scope": {"type": "array", "items": STR}, "cases": INT, "events": INT,
        "checkpoints": INT, "signed": INT, "ledger_events": INT,
        "problems": {"type": "array", "items": _ref("AuditProblem")},
        "results": {"type": "array", "items": _obj({"case_id": INT, "ok": BOOL})},
    }),
    "PublishedKeys": _obj({"items": {"type": "array", "items": _obj({
        "org": STR, "name": STR,
        "keys": {"type": "array", "items": _obj({
            "org": STR, "key_id": STR, "algorithm": STR,
            "public_key": _d(STR, "Ed25519 公钥（32 字节，十六进制）",
                             "Ed25519 public key (32 bytes, hex)"),
            "added_at": STR, "retired_at": OPT_STR, "ledger_seq": INT, "replaces": OPT_STR})},
        "latest_checkpoint": {"type": ["object", "null"]},
    })}}),
}

EVENT_PARAMS = (
    Param("org", STR, Text("组织代码（含其下级）", "Organisation code (with its subtree)")),
    Param("kind", STR, Text("流程", "Process kind")),
    Param("case", STR, Text("事项编号（id）或查询编号", "Case id or reference code")),
    Param("actor", STR, Text("操作人：用户名或 user:… / applicant:… / public:… / system",
                             "Actor: a username, or user:… / applicant:… / system")),
    Param("trigger", STR, Text("操作名", "Trigger name")),
    Param("since", STR, Text("起始日期或时间（北京时间）", "From date or time (Asia/Shanghai)")),
    Param("until", STR, Text("截止日期或时间（含当日）", "Until date or time (inclusive)")),
    Param("after", STR, Text("上一页返回的 `next`", "The previous page's `next`")),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": PAGE},
          Text("每页条数", "Page size")),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(keys_bp)
    register_api(app)
