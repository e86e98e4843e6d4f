"""The auditor's desk (AU1-AU4, G15): pages and JSON, read-only, scoped to a subtree.

The auditor of ``tests/web/conftest.py`` holds the role at the town T, so T and the
village V below it are in scope and the bureau B is not. Tampering is done in SQL, as
in tests/workflow/test_audit.py; the desk must show the same findings as ``verify``:
the case, the sequence number and what kind of tampering it is.
"""

from __future__ import annotations

import gzip
import html
import json

import pytest
import sqlalchemy as sa

from tests.history import LATER, at, event_at, tamper, three_cases
from tests.web.conftest import login
from workflow.audit import signing
from workflow.audit.bundle import verify_bundle
from workflow.audit.chain import case_events, checkpoints, copies, replay, verify, write_checkpoint
from workflow.people.actors import user
from workflow.store.models import cases, events, timers

API = "/api/v1/audit"



@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False}


@pytest.fixture(autouse=True)
def keys_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_KEY_DIR", str(tmp_path / "keys"))
    return tmp_path / "keys"


@pytest.fixture
def built(engine, people, users):
    """Cases a (expired, 7 events), b (approved, 4), c (draft, 2) at T; one at V; one at
    B (out of the auditor's scope); keys for C and T; one round of checkpoints."""
    signing.add_key(engine.db, "C", now=at(-20))
    signing.add_key(engine.db, "T", now=at(-10))
    built = three_cases(engine, people)
    village = engine.start("sample", "V", user("vh", {("/1/2/3/", "handler")}),
                           {"title": "村务公开"}, at(10))
    bureau = engine.start("sample", "B", people["stranger"], {"title": "局内事项"}, at(11))
    write_checkpoint(engine.db, now=LATER)
    return built | {"v": village.id, "bureau": bureau.id,
                    "codes": {"a": engine.get(built["a"], people["reviewer"]).code}}


def run_due(engine) -> int:
    from workflow.core.timers import run_due as fire_due

    return fire_due(engine, now=LATER)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return text_of(response)




# -- who may use the desk -------------------------------------------------------------------


def test_only_auditors_use_the_desk(client, users, built):
    assert client.get("/audit/").status_code == 302, "signing in first"
    login(client, users["handler"])
    assert client.get("/audit/").status_code == 403
    assert client.post("/audit/verify").status_code == 403
    assert "审计台" not in page(client, "/inbox"), "no desk link without the role"
    assert client.get(f"{API}/events", headers=users["handler"].headers).status_code == 403
    body = client.get(f"{API}/events", headers=users["handler"].headers).get_json()
    assert body["error"] == "forbidden" and "审计员" in body["message"]
    assert client.get(f"{API}/events").status_code == 401
    client.post("/logout")
    login(client, users["auditor"])
    assert 'href="/audit/"' in page(client, "/inbox")


def test_the_desk_is_scoped_to_the_auditors_subtree(client, users, built):
    login(client, users["auditor"])
    log = page(client, "/audit/")
    assert "办公用品" in log and "村务公开" in log and "局内事项" not in log
    assert client.get(f"/audit/cases/{built['bureau']}").status_code == 404
    assert client.get("/audit/?org=B").status_code == 404
    assert client.get(f"/audit/cases/{built['v']}").status_code == 200
    headers = users["auditor"].headers
    assert client.get(f"{API}/cases/{built['bureau']}", headers=headers).status_code == 404
    assert client.post(f"{API}/verify", json={"org": "B"}, headers=headers).status_code == 404


# -- the event log ----------------------------------------------------------------------------


def test_event_log_filters_and_pages(client, users, built):
    login(client, users["auditor"])
    only_b = page(client, f"/audit/?case={built['b']}")
    assert "会议室改造" in only_b and "办公用品" not in only_b
    by_code = page(client, f"/audit/?case={built['codes']['a'].lower()}")
    assert "办公用品" in by_code and "会议室改造" not in by_code
    system = page(client, "/audit/?actor=system")
    assert system.count("<code>system</code>") == 3
    assert "user:li" in page(client, "/audit/?actor=li&trigger=approve")
    assert "村务公开" in page(client, "/audit/?org=V") and "办公用品" not in page(
        client, "/audit/?org=V")
    assert "没有符合条件的事件" in page(client, "/audit/?since=2026-12-02")
    assert "到期提醒" in page(client, "/audit/?since=2026-12-01&until=2026-12-01")
    assert client.get("/audit/?since=yesterday").status_code == 422

    headers = users["auditor"].headers
    first = client.get(f"{API}/events?limit=5", headers=headers).get_json()
    assert len(first["items"]) == 5 and first["next"]
    rest = client.get(f"{API}/events?limit=200&after={first['next']}", headers=headers)
    items = first["items"] + rest.get_json()["items"]
    assert len(items) == 7 + 4 + 2 + 1, "T's and V's events, none of B's"
    assert rest.get_json()["next"] is None
    assert [e["id"] for e in items] == sorted((e["id"] for e in items), reverse=True)
    submit = next(e for e in items if e["case_id"] == built["b"] and e["seq"] == 2)
    assert submit["payload"] == {"amount": 2000} and submit["label"] == "提交"
    assert submit["at"] == "2026-11-02T02:05:00.000000Z" and len(submit["hash"]) == 64
    assert submit["case_code"].startswith("SP-")
    en = client.get(f"{API}/events?trigger=submit&kind=sample&lang=en", headers=headers)
    assert {e["label"] for e in en.get_json()["items"]} == {"Submit"}
    bad = client.get(f"{API}/events?limit=0&since=x&after=y", headers=headers)
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {
        "limit", "since", "after"}


# -- a case: history, diffs, as of a time ------------------------------------------------------


def test_case_history_shows_each_data_change(client, users, built):
    login(client, users["auditor"])
    text = page(client, f"/audit/cases/{built['b']}")
    assert "链条完好，重放一致" in text
    assert text.count('<li data-seq=') == 4
    assert '<td><code>amount</code></td>' in text and "2000" in text
    assert "submitted_by" in text and '"user:hu"' in text

    body = client.get(f"{API}/cases/{built['b']}", headers=users["auditor"].headers).get_json()
    assert body["stored"]["state"] == "approved" and body["problems"] == []
    submit = body["events"][1]
    assert submit["state_after"] == "review"
    assert {c["key"]: (c["kind"], c["after"]) for c in submit["changes"]}["amount"] == (
        "added", 2000)
    assert body["events"][0]["changes"][0]["kind"] == "added"


def test_case_as_of_a_time_is_rebuilt_by_replay(client, users, built):
    login(client, users["auditor"])
    text = page(client, f"/audit/cases/{built['b']}?as_of=2026-11-02T10:05:30")
    assert "当时状态" in text and "审核" in text and "<code>review</code>" in text
    before = page(client, f"/audit/cases/{built['b']}?as_of=2026-11-02T09:00")
    assert "该时刻事项尚未立案" in before
    headers = users["auditor"].headers
    body = client.get(f"{API}/cases/{built['b']}?as_of=2026-11-02T10:06:30",
                      headers=headers).get_json()
    assert body["rebuilt"]["state"] == "upper" and body["rebuilt"]["seq"] == 3
    assert body["as_of"] == "2026-11-02T02:06:30.000000Z"
    assert client.get(f"{API}/cases/{built['b']}?as_of=later",
                      headers=headers).status_code == 422


def test_board_as_of_a_time(client, users, built):
    login(client, users["auditor"])
    text = page(client, "/audit/board?org=T&at=2026-11-02T10:06:30")
    assert "办公用品" in text and "会议室改造" in text and "学习材料" not in text
    assert "村务公开" not in text, "opened later"
    row = text[text.index("会议室改造"):]
    assert row.index("上级同意") < row.index("已批准"), "then: upper consent; now: approved"
    everything = page(client, "/audit/board?org=T&at=2026-12-31")
    assert "学习材料" in everything and "村务公开" in everything
    assert "该时刻没有已立案的事项" in page(client, "/audit/board?org=V&at=2026-11-01")
    assert "时间格式" in page(client, "/audit/board?at=soon")


# -- verify now, and tampering shown as verify names it ----------------------------------------


def _delete_case(case_id: int):
    return [sa.delete(timers).where(timers.c.case_id == case_id),
            sa.delete(events).where(events.c.case_id == case_id),
            sa.delete(cases).where(cases.c.id == case_id)]


def _truncate(engine, case_id: int):
    before = replay(case_events(engine.db, case_id)[:5], engine.registry)
    return [sa.delete(events).where(events.c.case_id == case_id, events.c.seq > 5),
            sa.update(cases).where(cases.c.id == case_id).values(
                state=before.state, version=before.version, seq=before.seq,
                head_hash=before.head_hash,
                data=json.dumps(before.data, ensure_ascii=False, sort_keys=True))]


TAMPERING = {
    "edited_payload": (lambda e, b: [sa.update(events).where(event_at(b["a"], 4))
                                     .values(payload='{"text":"反对"}')],
                       "a", 4, "payload_edited", "事件内容被改动"),
    "edited_actor": (lambda e, b: [sa.update(events).where(event_at(b["b"], 3))
                                   .values(actor="user:qian")],
                     "b", 3, "event_edited", "事件头被改动"),
    "edited_time": (lambda e, b: [sa.update(events).where(event_at(b["b"], 3))
                                  .values(at="2026-11-01T02:02:00.000000Z")],
                    "b", 3, "event_edited", "事件头被改动"),
    "deleted_event": (lambda e, b: [sa.delete(events).where(event_at(b["a"], 3))],
                      "a", 3, "events_missing", "事件被删除"),
    "swapped_events": (lambda e, b: [
        sa.update(events).where(event_at(b["a"], 2)).values(seq=-1),
        sa.update(events).where(event_at(b["a"], 3)).values(seq=2),
        sa.update(events).where(event_at(b["a"], -1)).values(seq=3)],
        "a", 2, "reordered", "事件顺序被调换"),
    "deleted_case": (lambda e, b: _delete_case(b["c"]), "c", 2, "case_deleted",
                     "检查点记录的案件整体被删除"),
    "cut_off_tail": (lambda e, b: _truncate(e, b["a"]), "a", 7, "truncated",
                     "案件尾部事件被截断"),
    "case_row_disagrees": (lambda e, b: [sa.update(cases).where(cases.c.id == b["b"])
                                         .values(state="rejected")],
                           "b", 4, "state_mismatch", "案件记录与重放结果不符"),
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_verify_now_shows_what_verify_names(client, users, engine, built, name):
    statements, key, seq, code, words = TAMPERING[name]
    tamper(engine, *statements(engine, built))
    case_id = built[key]
    assert (case_id, seq, code) in [(p.case_id, p.seq, p.code) for p in
                                    verify(engine.db, engine.registry).problems]
    login(client, users["auditor"])
    response = client.post("/audit/verify", data={"org": ""})
    text = text_of(response)
    assert response.status_code == 200 and "发现" in text and "处问题" in text
    row = text[text.index(f'data-case="{case_id}"'):]
    row = row[:row.index("</tr>")]
    assert f'data-code="{code}"' in row and f"第 {seq} 号事件" in row and words in row
    assert text.count('class="bad"') == 1, "the other cases are intact"

    body = client.post(f"{API}/verify", json={}, headers=users["auditor"].headers).get_json()
    assert not body["ok"] and (case_id, seq, code) in [
        (p["case_id"], p["seq"], p["code"]) for p in body["problems"]]
    assert {r["case_id"]: r["ok"] for r in body["results"]}[case_id] is False
    if name != "deleted_case":
        case_page = page(client, f"/audit/cases/{case_id}")
        assert "发现问题" in case_page and f'data-code="{code}"' in case_page
        assert f"第 {seq} 号事件" in case_page


def test_verify_now_clean_and_per_case(client, users, built):
    login(client, users["auditor"])
    text = text_of(client.post("/audit/verify", data={"org": "T"}))
    assert "哈希链完好，但有 1 个检查点未签名" in text, "V has no key: its checkpoint is unsigned"
    assert "完好：没有发现问题" not in text
    assert text.count("✓ 完好") == 4, "T's three cases and V's one, one line each"
    everything = text_of(client.post("/audit/verify", data={}))
    assert everything.count("✓ 完好") == 4 and "局内事项" not in everything
    body = client.post(f"{API}/verify", json={"org": "V"},
                       headers=users["auditor"].headers).get_json()
    assert body["ok"] and body["scope"] == ["V"] and body["results"] == [
        {"case_id": built["v"], "ok": True}]
    assert client.post(f"{API}/verify", data="[1]", headers={
        **users["auditor"].headers, "Content-Type": "application/json"}).status_code == 422


def test_a_rewritten_checkpoint_shows_on_the_desk(client, users, engine, built):
    tamper(engine, sa.update(checkpoints).where(checkpoints.c.org == "T")
           .values(hash="f" * 64))
    login(client, users["auditor"])
    text = text_of(client.post("/audit/verify", data={}))
    assert 'data-code="checkpoint_broken"' in text and "检查点链断裂或被伪造" in text
    assert 'data-code="signature_invalid"' in text
    table = page(client, "/audit/checkpoints")
    assert "✗ 签名无效" in table and "与原件不符" in table


# -- checkpoints, keys, exports ----------------------------------------------------------------


def test_checkpoints_page_shows_signatures_and_witnesses(client, users, engine, built):
    login(client, users["auditor"])
    text = page(client, "/audit/checkpoints")
    with engine.db.read() as conn:
        cp = conn.execute(sa.select(checkpoints).where(checkpoints.c.org == "T")).one()
    assert f"✓ {cp.key_id}" in text and "C：" in text and "✓ 已见证签名" in text
    assert "C</td>" not in text.split('id="keys"')[0], "the county's checkpoint is out of scope"
    assert text.count("<code class=\"key\">") == 1, "T's key (C is out of scope)"
    tamper(engine, sa.update(copies).values(witness_signature="00" * 64))
    assert "未见证签名" in page(client, "/audit/checkpoints?org=T")


def test_public_keys_need_no_account(client, engine, built):
    text = page(client, "/board/keys")
    with engine.db.read() as conn:
        keys = signing.keys_by_org(conn)
    for org in ("C", "T"):
        (key,) = keys[org].values()
        assert key.public_key in text
    body = client.get(f"{API}/keys").get_json()
    assert [o["org"] for o in body["items"]] == ["C", "T"]
    assert body["items"][1]["latest_checkpoint"]["key_id"] == keys["T"][
        next(iter(keys["T"]))].key_id


@pytest.mark.parametrize("redacted", [False, True], ids=["full", "redacted"])
def test_auditors_download_bundles_that_verify(client, users, engine, built, tmp_path,
                                               redacted):
    login(client, users["auditor"])
    assert "下载" in page(client, "/audit/export")
    url = "/audit/export/bundle?org=T" + ("&redacted=1" if redacted else "")
    response = client.get(url)
    data = response.data
    response.close()
    assert response.status_code == 200 and response.mimetype == "application/gzip"
    assert "attachment" in response.headers["Content-Disposition"]
    out = tmp_path / "bundle.jsonl.gz"
    out.write_bytes(data)
    report = verify_bundle(out, engine.registry)
    assert report.ok, report.problems
    assert report.cases == 4 and report.signed == 1
    text = gzip.decompress(data).decode("utf-8")
    assert ("请尽快" in text) is not redacted
    assert "局内事项" not in text
    assert client.get("/audit/export/bundle?org=B").status_code == 404
    assert client.get("/audit/export/bundle?org=T&since=soon").status_code == 422
    since = client.get("/audit/export/bundle?org=T&since=2026-12-02")
    out.write_bytes(since.data)
    since.close()
    assert verify_bundle(out, engine.registry).ok


def test_the_desk_in_english(client, users, built):
    login(client, users["auditor"])
    client.get("/lang/en")
    text = page(client, "/audit/")
    for label in ("Audit desk", "Event log", "As of a time", "Verify now", "Checkpoints",
                  "Export bundle"):
        assert label in text, label
    case = page(client, f"/audit/cases/{built['b']}")
    assert "Chain intact, replay agrees" in case and "Data item" in case
    assert "Verify now" in text_of(client.post("/audit/verify", data={}))


def test_an_unsigned_checkpoint_is_never_shown_as_intact(client, users, engine, people):
    """Issue 22: checkpoints written before any key exists prove only that the chain holds
    together; the desk says so and names the command that fixes it (AU3)."""
    three_cases(engine, people)
    write_checkpoint(engine.db, now=LATER)
    login(client, users["auditor"])
    text = text_of(client.post("/audit/verify", data={}))
    assert "完好：没有发现问题" not in text and "哈希链完好，但有 1 个检查点未签名" in text
    assert 'class="verdict warn"' in text and "gongkai audit keygen" in text
    table = page(client, "/audit/checkpoints")
    assert 'id="unsigned-notice"' in table and "gongkai audit keygen" in table
    assert "⚠ 未签名" in table.split('id="checkpoints"')[1]
    body = client.post(f"{API}/verify", json={}, headers=users["auditor"].headers).get_json()
    assert body["checkpoints"] == 1 and body["signed"] == 0


def test_signed_checkpoints_are_intact(client, users, engine, people):
    for code in ("C", "T", "V"):
        signing.add_key(engine.db, code, now=at(-20))
    three_cases(engine, people)
    write_checkpoint(engine.db, now=LATER)
    login(client, users["auditor"])
    text = text_of(client.post("/audit/verify", data={}))
    assert "完好：没有发现问题" in text and "未签名" not in text.split('id="verify-cases"')[0]
    assert 'id="unsigned-notice"' not in page(client, "/audit/checkpoints")
