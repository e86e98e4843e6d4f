"""Attachments through the door: checked by content, stored by digest, recorded in the
event, covered by verify (AU2), removed when no event took them."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from tests.history import NOW, at, event_at, tamper
from workflow.audit.chain import case_events, replay, verify
from workflow.base.errors import Forbidden, Invalid, NotAllowed, NotFound
from workflow.core import attachments
from workflow.core.schema import Upload
from workflow.store.files import FolderStore, sha256_of
from workflow.store.models import attachments as attachment_rows
from workflow.store.models import events, orgs


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(out, "JPEG")
    return out.getvalue()


def pdf() -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    return bytes(doc.output())


def xlsx() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64  # an executable, whatever it is named
KINDS = {"pdf": pdf, "jpeg": jpeg, "png": png, "docx": docx, "xlsx": xlsx}


@pytest.fixture
def case(engine, people):
    return engine.start("sample", "T", people["handler"], {"title": "带附件的事项"}, at(0))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_allowed_kind_round_trips_and_the_event_records_its_digest(
        engine, people, case, file_store, kind):
    data = KINDS[kind]()
    done = engine.fire(case.id, "submit", people["handler"],
                       {"amount": 1, "documents": [Upload(f"材料.{kind}", data)]}, 1, at(1))
    [record] = done.data.get("documents") or json.loads(
        case_events(engine.db, case.id)[-1]["payload"])["documents"]
    assert record["sha256"] == sha256_of(data) and record["size"] == len(data)
    assert record["media_type"] == attachments.MEDIA_TYPES[kind]
    assert record["name"] == f"材料.{kind}"
    assert file_store.get(record["sha256"]) == data
    payload = json.loads(case_events(engine.db, case.id)[-1]["payload"])
    assert payload["documents"] == [record], "the event keeps the record, never the bytes"
    assert verify(engine.db, engine.registry, files=file_store).ok


def test_a_renamed_executable_is_refused_by_its_content(engine, people, case):
    with pytest.raises(Invalid) as refused:
        engine.fire(case.id, "submit", people["handler"],
                    {"amount": 1, "documents": [Upload("报告.pdf", ELF)]}, 1, at(1))
    message = refused.value.fields["documents"]
    assert "PDF" in message.zh and "按文件内容判断" in message.zh and "content" in message.en
    assert engine.get(case.id, people["handler"]).version == 1, "nothing half-applied"


def test_a_field_narrows_the_kinds_it_takes(engine, people, case):
    with pytest.raises(Invalid) as refused:
        engine.fire(case.id, "comment", people["member"],
                    {"text": "附身份证", "id_card": Upload("id.pdf", pdf())}, None, at(1))
    assert "JPEG" in refused.value.fields["id_card"].zh
    assert "PDF" not in refused.value.fields["id_card"].zh


def test_an_over_size_file_is_refused_naming_the_limit(engine, people, tree, case):
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == "T").values(
            settings=json.dumps({"attachments": {"max_mb": 1}})))
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024)
    with pytest.raises(Invalid) as refused:
        engine.fire(case.id, "submit", people["handler"],
                    {"amount": 1, "documents": [Upload("大.pdf", big)]}, 1, at(1))
    assert "1 MB" in refused.value.fields["documents"].zh
    with engine.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(attachment_rows)).scalar() == 0


def test_two_step_upload_then_reference_by_id_once(engine, people, case, tree):
    row = engine.upload(case.id, people["handler"], Upload("../../etc/passwd.pdf", pdf()), at(1))
    assert row["name"] == "passwd.pdf", "path characters stripped, kept for display only"
    done = engine.fire(case.id, "submit", people["handler"],
                       {"amount": 1, "documents": [row["id"]]}, 1, at(2))
    assert done.version == 2
    again = engine.start("sample", "T", people["handler"], {"title": "另一事项"}, at(3))
    with pytest.raises(Invalid) as other_case:
        engine.fire(again.id, "submit", people["handler"],
                    {"amount": 1, "documents": [row["id"]]}, 1, at(4))
    assert "不属于本事项" in other_case.value.fields["documents"].zh


def test_upload_needs_an_action_on_the_case_and_its_scope(engine, people, case):
    with pytest.raises(NotFound):
        engine.upload(case.id, people["stranger"], Upload("a.pdf", pdf()), at(1))
    with pytest.raises(Forbidden):
        engine.upload(case.id, people["upper"], Upload("a.pdf", pdf()), at(1))


def test_a_refused_action_leaves_no_attachment_referenced(engine, people, case, file_store):
    """The guard refuses after the upload was stored: the transaction takes the row with
    it, so nothing names the file (its bytes, named by nothing, are invisible)."""
    with pytest.raises(NotAllowed):
        engine.fire(case.id, "submit", people["handler"],
                    {"amount": 10**9, "documents": [Upload("a.pdf", pdf())]}, 1, at(1))
    with engine.db.read() as conn:
        assert conn.execute(sa.select(attachment_rows)).all() == []
    assert engine.get(case.id, people["handler"]).seq == 1


def test_verify_names_a_file_changed_or_deleted_on_disk(engine, people, case, file_store):
    done = engine.fire(case.id, "submit", people["handler"],
                       {"amount": 1, "documents": [Upload("a.pdf", pdf())]}, 1, at(1))
    digest = done.data["documents"][0]["sha256"] if "documents" in done.data else json.loads(
        case_events(engine.db, case.id)[-1]["payload"])["documents"][0]["sha256"]
    path = file_store._path(digest)
    path.write_bytes(b"%PDF-1.4 forged")
    found = [(p.case_id, p.seq, p.code) for p in
             verify(engine.db, engine.registry, files=file_store).problems]
    assert found == [(case.id, 2, "file_altered")]
    path.unlink()
    report = verify(engine.db, engine.registry, files=file_store)
    assert [(p.case_id, p.seq, p.code) for p in report.problems] == [
        (case.id, 2, "file_missing")]
    assert "a.pdf" in report.problems[0].message.zh


def test_verify_names_a_digest_edited_in_an_event(engine, people, case, file_store):
    engine.fire(case.id, "submit", people["handler"],
                {"amount": 1, "documents": [Upload("a.pdf", pdf())]}, 1, at(1))
    payload = json.loads(case_events(engine.db, case.id)[-1]["payload"])
    payload["documents"][0]["sha256"] = sha256_of(b"other")
    tamper(engine, sa.update(events).where(event_at(case.id, 2))
           .values(payload=json.dumps(payload, ensure_ascii=False)))
    codes = {(p.seq, p.code) for p in verify(engine.db, engine.registry,
                                               files=file_store).problems}
    assert (2, "payload_edited") in codes and (2, "file_missing") in codes


def test_an_officer_reading_personal_data_is_an_event_replay_keeps(engine, people, case):
    engine.fire(case.id, "comment", people["member"],
                {"text": "附身份证", "id_card": Upload("id.png", png())}, None, at(1))
    record = json.loads(case_events(engine.db, case.id)[-1]["payload"])["id_card"][0]
    read = engine.note_download(case.id, people["reviewer"], record, at(2))
    assert read.version == 1 and read.seq == 3, "append-only: the version is kept"
    last = case_events(engine.db, case.id)[-1]
    assert (last["trigger"], last["actor"]) == ("download", "user:li")
    assert replay(case_events(engine.db, case.id), engine.registry).state == read.state
    assert verify(engine.db, engine.registry).ok


def test_uploads_no_event_took_are_removed_after_a_day(engine, people, case, file_store):
    kept = engine.upload(case.id, people["handler"], Upload("kept.pdf", pdf()), at(1))
    engine.fire(case.id, "submit", people["handler"],
                {"amount": 1, "documents": [kept["id"]]}, 1, at(2))
    stray = engine.upload(case.id, people["handler"], Upload("stray.png", png()), at(3))
    assert attachments.sweep(engine.db, file_store, NOW + dt.timedelta(hours=20)) == 0
    assert attachments.sweep(engine.db, file_store, NOW + dt.timedelta(days=1, hours=1)) == 1
    assert file_store.get(stray["sha256"]) is None
    assert file_store.get(kept["sha256"]) is not None


@given(st.text())
def test_display_names_never_carry_a_path(name):
    shown = attachments.display_name(name)
    assert shown and "/" not in shown and "\\" not in shown and len(shown) <= 255
    assert not any(ord(c) < 32 for c in shown) and not shown.startswith(".")


@given(st.binary(max_size=64))
def test_sniffing_never_takes_random_bytes_for_an_office_file(data):
    assert attachments.sniff(data) in (None, "pdf", "jpeg", "png")


def test_folder_store_is_content_addressed(tmp_path):
    store = FolderStore(tmp_path)
    digest = store.put(b"abc")
    assert digest == sha256_of(b"abc") and store.put(b"abc") == digest
    assert list(store.digests()) == [digest] and store.get(digest) == b"abc"
    store.delete(digest)
    assert store.get(digest) is None
    with pytest.raises(ValueError):
        store.get("../../etc/passwd")
