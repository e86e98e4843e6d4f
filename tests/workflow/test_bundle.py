"""Export bundles (AU2, AU4): verified offline; full and redacted; tampering is named."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re

import pytest

from workflow.audit.bundle import FORMAT, export, verify_bundle
from workflow.audit.chain import case_events, write_checkpoint
from workflow.core.schema import Upload
from workflow.core.timers import run_due
from workflow.people.actors import PUBLIC

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai
LATER = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def built(engine, people):
    """Case ``a`` runs out of time (6 events), ``b`` is approved (3), ``c`` has a comment (2)."""
    handler = people["handler"]
    a = engine.start("sample", "T", handler, {"title": "办公用品"}, NOW)
    engine.fire(a.id, "submit", handler, {"amount": 5}, 1, NOW)
    engine.fire(a.id, "comment", PUBLIC, {"text": "请尽快答复"}, None, NOW)
    b = engine.start("sample", "T", handler, {"title": "会议室改造"}, NOW)
    b = engine.fire(b.id, "submit", handler, {"amount": 50}, 1, NOW)
    engine.fire(b.id, "approve", people["reviewer"], {}, b.version, NOW)
    c = engine.start("sample", "T", handler, {"title": "学习材料"}, NOW)
    engine.fire(c.id, "comment", people["member"], {"text": "身份证号 110101199001011234"},
                None, NOW)
    assert run_due(engine, now=LATER) == 3
    write_checkpoint(engine.db, now=LATER)
    return {"a": a.id, "b": b.id, "c": c.id}


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def rewrite(path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")


def named(report) -> list[tuple[int | None, int | None, str]]:
    return [(p.case_id, p.seq, p.code) for p in report.problems]


def test_au2_full_bundle_verifies_offline(engine, built, tmp_path):
    out = tmp_path / "audit.jsonl"
    counts = export(engine.db, out)
    assert counts == {"cases": 3, "events": 11, "checkpoints": 1}
    rows = lines(out)
    assert rows[0]["type"] == "header" and rows[0]["format"] == FORMAT
    assert rows[0]["redacted"] is False
    assert rows[0]["definitions"][0]["kind"] == "sample"
    assert [r["type"] for r in rows[1:]] == ["checkpoint"] + ["case"] * 3 + ["event"] * 11
    report = verify_bundle(out, engine.registry)
    assert report.ok, report.problems
    assert (report.cases, report.events, report.checkpoints) == (3, 11, 1)
    assert "请尽快答复" in out.read_text(encoding="utf-8"), "the full form keeps payloads"


def test_au2_full_bundle_verifies_without_the_definitions(engine, built, tmp_path):
    """No registry: chains and checkpoints are still checked, replay is skipped."""
    out = tmp_path / "audit.jsonl"
    export(engine.db, out)
    assert verify_bundle(out, None).ok
    rows = lines(out)
    edited = [r | {"actor": "user:qian"} if r.get("seq") == 2 and r.get("case_id") == built["b"]
              else r for r in rows]
    rewrite(out, edited)
    assert named(verify_bundle(out, None)) == [(built["b"], 2, "event_edited")]


def test_au4_redacted_bundle_has_no_payloads_and_still_verifies(engine, built, tmp_path):
    out = tmp_path / "public.jsonl"
    export(engine.db, out, redacted=True)
    rows = lines(out)
    assert rows[0]["redacted"] is True
    assert all(r["payload"] is None for r in rows if r["type"] == "event")
    assert all(len(r["payload_digest"]) == 64 for r in rows if r["type"] == "event")
    assert all(r["data"] is None for r in rows if r["type"] == "case")
    text = out.read_text(encoding="utf-8")
    for secret in ("请尽快答复", "110101199001011234", "办公用品", "会议室改造", "amount"):
        assert secret not in text
    report = verify_bundle(out, engine.registry)
    assert report.ok, report.problems
    assert (report.cases, report.events, report.checkpoints) == (3, 11, 1)


@pytest.mark.parametrize("redacted", [False, True], ids=["full", "redacted"])
def test_au2_bundle_names_an_edited_actor(engine, built, tmp_path, redacted):
    out = tmp_path / "audit.jsonl"
    export(engine.db, out, redacted=redacted)
    rows = lines(out)
    for r in rows:
        if r["type"] == "event" and (r["case_id"], r["seq"]) == (built["a"], 2):
            assert r["actor"] == "user:hu"
            r["actor"] = "user:li"
    rewrite(out, rows)
    assert named(verify_bundle(out, engine.registry)) == [(built["a"], 2, "event_edited")]


def test_au2_bundle_names_an_edited_payload(engine, built, tmp_path):
    out = tmp_path / "audit.jsonl"
    export(engine.db, out)
    rows = lines(out)
    for r in rows:
        if r["type"] == "event" and (r["case_id"], r["seq"]) == (built["a"], 3):
            r["payload"] = json.dumps({"text": "已答复"}, ensure_ascii=False)
    rewrite(out, rows)
    assert named(verify_bundle(out, engine.registry)) == [(built["a"], 3, "payload_edited")]


@pytest.mark.parametrize("redacted", [False, True], ids=["full", "redacted"])
def test_au2_bundle_names_a_deleted_event_line(engine, built, tmp_path, redacted):
    out = tmp_path / "audit.jsonl"
    export(engine.db, out, redacted=redacted)
    rows = [r for r in lines(out)
            if not (r["type"] == "event" and (r["case_id"], r["seq"]) == (built["a"], 2))]
    rewrite(out, rows)
    report = verify_bundle(out, engine.registry)
    assert named(report) == [(built["a"], 2, "events_missing")]
    assert report.events == 10


def test_au2_bundle_names_a_case_whose_lines_were_all_deleted(engine, built, tmp_path):
    out = tmp_path / "audit.jsonl"
    export(engine.db, out)
    gone = built["b"]
    rows = [r for r in lines(out)
            if not (r["type"] == "case" and r["id"] == gone)
            and not (r["type"] == "event" and r["case_id"] == gone)]
    rewrite(out, rows)
    report = verify_bundle(out, engine.registry)
    assert named(report) == [(gone, 3, "case_deleted")]
    assert report.cases == 2


def test_au2_bundle_names_a_cut_off_tail(engine, built, tmp_path):
    out = tmp_path / "audit.jsonl"
    export(engine.db, out, redacted=True)
    rows = [r for r in lines(out)
            if not (r["type"] == "event" and r["case_id"] == built["a"] and r["seq"] > 4)]
    for r in rows:
        if r["type"] == "case" and r["id"] == built["a"]:
            r["seq"] = 4
    rewrite(out, rows)
    assert named(verify_bundle(out, engine.registry)) == [(built["a"], 6, "truncated")]


def test_au2_bundle_names_a_forged_checkpoint(engine, built, tmp_path):
    out = tmp_path / "audit.jsonl"
    export(engine.db, out)
    rows = lines(out)
    for r in rows:
        if r["type"] == "checkpoint":
            heads = json.loads(r["heads"])
            r["heads"] = json.dumps([h for h in heads if h[1] != built["c"]],
                                    separators=(",", ":"))
    rewrite(out, rows)
    assert named(verify_bundle(out, engine.registry)) == [(None, None, "checkpoint_broken")]


def test_au2_gz_bundle(engine, built, tmp_path):
    out = tmp_path / "audit.jsonl.gz"
    assert export(engine.db, out, redacted=True)["events"] == 11
    assert out.read_bytes()[:2] == b"\x1f\x8b", "gzip-compressed"
    with gzip.open(out, "rt", encoding="utf-8") as fh:
        assert json.loads(fh.readline())["format"] == FORMAT
    report = verify_bundle(out, engine.registry)
    assert report.ok and report.events == 11


def test_au2_empty_database_exports_a_bundle_that_verifies(engine, tmp_path):
    out = tmp_path / "empty.jsonl"
    assert export(engine.db, out) == {"cases": 0, "events": 0, "checkpoints": 0}
    report = verify_bundle(out, engine.registry)
    assert report.ok and report.cases == 0


@pytest.mark.parametrize("text", [
    "",
    '{"type": "header", "format": "something-else"}\n',
    "date,type,name\n2027-01-01,holiday,元旦\n",
], ids=["empty", "other-format", "not-json"])
def test_a_file_that_is_not_a_bundle_is_refused_in_chinese(tmp_path, registry, text):
    path = tmp_path / "other.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as refused:
        verify_bundle(path, registry)
    assert CJK.search(str(refused.value)), str(refused.value)


def test_a_bundle_with_a_broken_line_is_refused_in_chinese(engine, built, tmp_path):
    out = tmp_path / "audit.jsonl"
    export(engine.db, out)
    text = out.read_text(encoding="utf-8").splitlines()
    text[3] = text[3][: len(text[3]) // 2]
    out.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="第 4 行不是 JSON"):
        verify_bundle(out, engine.registry)


# -- attachments: listed by digest, carried with --with-files, checked when present ----------


@pytest.fixture
def attached(engine, people, file_store):
    """Case ``a``: submit with two documents (event 2), a comment with an ID photo
    (event 3, personal data); case ``b``: the same PDF again (event 2); one checkpoint."""
    from tests.workflow.test_attachments import pdf, png

    handler = people["handler"]
    minutes = pdf()  # once: fpdf stamps the time, and b must record the very same bytes
    a = engine.start("sample", "T", handler, {"title": "带附件"}, NOW)
    engine.fire(a.id, "submit", handler, {"amount": 5, "documents": [
        Upload("会议纪要.pdf", minutes), Upload("签到表.png", png())]}, 1, NOW)
    engine.fire(a.id, "comment", people["member"],
                {"text": "附身份证", "id_card": Upload("身份证.png", png() + b"\0")}, None, NOW)
    b = engine.start("sample", "T", handler, {"title": "同一文件"}, NOW)
    engine.fire(b.id, "submit", handler, {"amount": 5, "documents": [
        Upload("再次.pdf", minutes)]}, 1, NOW)
    write_checkpoint(engine.db, now=LATER)
    return {"a": a.id, "b": b.id}


def of_type(rows: list[dict], kind: str) -> list[dict]:
    return [r for r in rows if r["type"] == kind]


def both(path) -> list[tuple[int | None, int | None, str]]:
    """What the built-in verifier finds, after checking the stand-alone one agrees."""
    from tests.workflow.test_signing import agree

    return [(c, s, code) for c, s, code, _org in agree(path)]


def test_a_bundle_with_files_carries_each_file_once_and_verifies(
        engine, attached, file_store, tmp_path):
    out = tmp_path / "files.jsonl"
    counts = export(engine.db, out, files=file_store)
    assert counts["attachments"] == 4 and counts["files"] == 3, "the same PDF is carried once"
    rows = lines(out)
    assert rows[0]["files"] is True and rows[0]["format_version"] == 3
    assert [r["type"] for r in rows[-7:]] == ["attachment"] * 4 + ["file"] * 3
    listed = of_type(rows, "attachment")
    assert [(r["case_id"], r["seq"], r["name"]) for r in listed] == [
        (attached["a"], 2, "会议纪要.pdf"), (attached["a"], 2, "签到表.png"),
        (attached["a"], 3, "身份证.png"), (attached["b"], 2, "再次.pdf")]
    assert set(listed[0]) == {"type", "case_id", "seq", "attachment", "sha256", "size",
                              "media_type", "name"}
    for f in of_type(rows, "file"):
        assert base64.b64decode(f["data"]) == file_store.get(f["sha256"])
    assert verify_bundle(out, engine.registry).ok
    assert both(out) == []


def test_a_tampered_file_in_the_bundle_is_named_with_every_event_recording_it(
        engine, attached, file_store, tmp_path):
    out = tmp_path / "files.jsonl"
    export(engine.db, out, files=file_store)
    rows = lines(out)
    pdf_digest = of_type(rows, "attachment")[0]["sha256"]
    for r in of_type(rows, "file"):
        if r["sha256"] == pdf_digest:
            r["data"] = base64.b64encode(b"%PDF-1.4 forged").decode()
    rewrite(out, rows)
    found = verify_bundle(out, engine.registry).problems
    assert [(p.case_id, p.seq, p.code) for p in found] == [
        (attached["a"], 2, "file_altered"), (attached["b"], 2, "file_altered")]
    assert "会议纪要.pdf" in found[0].message.zh
    assert both(out) == [(attached["a"], 2, "file_altered"), (attached["b"], 2, "file_altered")]


def test_a_file_listed_but_absent_from_a_bundle_with_files_is_named(
        engine, attached, file_store, tmp_path):
    out = tmp_path / "files.jsonl"
    export(engine.db, out, files=file_store)
    rows = lines(out)
    photo = of_type(rows, "attachment")[2]["sha256"]
    rewrite(out, [r for r in rows if not (r["type"] == "file" and r["sha256"] == photo)])
    assert named(verify_bundle(out, engine.registry)) == [(attached["a"], 3, "file_missing")]
    assert both(out) == [(attached["a"], 3, "file_missing")]


def test_a_file_missing_from_the_store_at_export_is_counted_and_named(
        engine, attached, file_store, tmp_path):
    out = tmp_path / "files.jsonl"
    photo = json.loads(case_events(engine.db, attached["a"])[2]["payload"])["id_card"][0]
    file_store.delete(photo["sha256"])
    counts = export(engine.db, out, files=file_store)
    assert (counts["files"], counts["files_missing"]) == (2, 1)
    assert named(verify_bundle(out, engine.registry)) == [(attached["a"], 3, "file_missing")]


def test_without_files_the_bundle_lists_the_digests_and_verifies(
        engine, attached, file_store, tmp_path):
    out = tmp_path / "list.jsonl"
    counts = export(engine.db, out)
    assert counts["attachments"] == 4 and "files" not in counts
    rows = lines(out)
    assert rows[0]["files"] is False and of_type(rows, "file") == []
    assert {r["sha256"] for r in of_type(rows, "attachment")} == set(file_store.digests())
    assert verify_bundle(out, engine.registry).ok and both(out) == []


def test_the_full_list_must_agree_with_the_events_records(engine, attached, tmp_path):
    out = tmp_path / "list.jsonl"
    export(engine.db, out)
    rows = lines(out)
    of_type(rows, "attachment")[1]["sha256"] = "0" * 64
    rewrite(out, rows)
    assert named(verify_bundle(out, engine.registry)) == [
        (attached["a"], 2, "file_list_mismatch")]
    assert both(out) == [(attached["a"], 2, "file_list_mismatch")]
    rewrite(out, [r for r in lines(out) if not (r["type"] == "attachment"
                                                 and r["case_id"] == attached["b"])])
    assert (attached["b"], 2, "file_list_mismatch") in named(verify_bundle(out, None))


def test_a_redacted_bundle_keeps_digests_only(engine, attached, file_store, tmp_path):
    out = tmp_path / "public.jsonl"
    export(engine.db, out, redacted=True)
    rows = lines(out)
    listed = of_type(rows, "attachment")
    assert [set(r) for r in listed] == [{"type", "case_id", "seq", "sha256"}] * 4
    assert {r["sha256"] for r in listed} == set(file_store.digests())
    text = out.read_text(encoding="utf-8")
    for secret in ("会议纪要", "身份证.png", "签到表", "image/png", "application/pdf"):
        assert secret not in text
    assert verify_bundle(out, engine.registry).ok and both(out) == []
    with pytest.raises(ValueError, match="cannot carry files"):
        export(engine.db, out, redacted=True, files=file_store)
