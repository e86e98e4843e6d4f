"""Attachments through the API and the pages: upload, take with an action, download only
within scope (issue 14, G1, AU1).

The registry holds the sample process (``documents`` on submit, the personal ``id_card``
on comment) and the real processes (the routine item's ``documents``, the application's
personal ``documents`` and the answer's ``released``), the routine item's submit given
one more field for these tests: a personal-data scan (``id_scan``), which the board
must never show. Cases live at the town T under the county C; B is T's sibling, V its
child.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from machines import definitions
from tests.web.conftest import bearer, login, make_user
from tests.workflow.sample import definitions as sample_definitions
from tests.workflow.test_attachments import ELF, docx, pdf, png
from web import create_app
from workflow.audit.chain import case_events, verify
from workflow.core.declare import Field, Text
from workflow.core.registry import Registry
from workflow.core.schema import Upload
from workflow.people import accounts
from workflow.people.actors import applicant
from workflow.store.models import attachments as attachment_rows
from workflow.store.models import orgs

CHECKED = {"secrecy": True, "necessity": True, "accuracy": True}
ID_SCAN = Field("id_scan", "file", Text("身份证扫描件", "ID card scan"), required=False, max=1,
                personal=True)


def with_id_scan(process):
    """The routine item's submit also takes a personal-data file (tests only)."""
    if process.kind != "routine":
        return process
    return replace(process, triggers=tuple(
        replace(t, schema=replace(t.schema, fields=(*t.schema.fields, ID_SCAN)))
        if t.name == "submit" else t for t in process.triggers))


@pytest.fixture
def registry() -> Registry:
    return Registry([*sample_definitions(), *map(with_id_scan, definitions())])


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


@pytest.fixture
def members(engine, users):
    """Party members of T's child V and of its sibling B (users has T's own)."""
    return {"T": users["member"], "V": make_user(engine, "member-v", "V", ("member",)),
            "B": make_user(engine, "member-b", "B", ("member",))}


def actor_of(engine, who):
    with engine.db.read() as conn:
        return accounts.by_token(conn, who.token).actor


@pytest.fixture
def case(engine, users):
    """A sample case in draft at T, opened by its handler."""
    return engine.start("sample", "T", actor_of(engine, users["handler"]), {"title": "附件事项"})


def multipart(fields: dict) -> dict:
    """A multipart body built in memory (the test client spools a large one to a temporary
    file it never closes): the keyword arguments of ``client.post``."""
    files = MultiDict()
    for key, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            files.add(key, FileStorage(*one) if isinstance(one, tuple) else one)
    boundary, body = encode_multipart(files)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(client, who, case_id, name: str, data: bytes, field: str = "file"):
    return client.post(f"/api/v1/cases/{case_id}/attachments", headers=who.headers,
                       **multipart({field: (io.BytesIO(data), name)}))


def submitted(client, users, case, name: str, data: bytes) -> dict:
    """Upload over the API and take the file with the sample's submit: the record."""
    sent = upload(client, users["handler"], case.id, name, data)
    assert sent.status_code == 201, sent.get_json()
    fired = client.post(f"/api/v1/cases/{case.id}/actions/submit",
                        headers=users["handler"].headers,
                        json={"payload": {"amount": 1, "documents": [sent.get_json()["id"]]},
                              "expected_version": case.version})
    assert fired.status_code == 200, fired.get_json()
    return sent.get_json()


def set_org_settings(engine, code: str, settings: dict) -> None:
    with engine.db.write() as conn:
        conn.execute(sa.update(orgs).where(orgs.c.code == code).values(
            settings=json.dumps(settings)))


def item(engine, users, scope: str, release_public: bool, files: dict):
    """A routine item at T whose submit took ``files`` (field -> [Upload]), released
    internally and, for a public item when asked, to the public."""
    handler, reviewer = (actor_of(engine, users[n]) for n in ("handler", "reviewer"))
    case = engine.start("routine", "T", handler, {
        "title": f"带附件的公开事项（{scope}）", "content": "见附件。", "category": "organisation",
        "scope": scope, "channels": ["board"], "time_class": "standing", "entry": "ML-1"})
    case = engine.fire(case.id, "submit", handler, files, case.version)
    case = engine.fire(case.id, "approve", reviewer, CHECKED, case.version)
    case = engine.fire(case.id, "publish_internal", handler, {"channels": ["meeting"]},
                       case.version)
    if release_public:
        case = engine.fire(case.id, "publish_public", handler, {"channels": ["board"]},
                           case.version)
    return case


def ids_in(engine, case_id: int, field: str) -> list[int]:
    for event in case_events(engine.db, case_id):
        found = json.loads(event["payload"]).get(field)
        if found:
            return [r["attachment"] for r in found]
    raise AssertionError(f"no {field} in case {case_id}")


# -- the API round trip -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "make", "media"), [
    ("会议纪要.pdf", pdf, "application/pdf"), ("签到表.png", png, "image/png")])
def test_upload_take_with_an_action_and_download(client, engine, users, case, file_store,
                                                 name, make, media):
    data = make()
    record = submitted(client, users, case, name, data)
    assert set(record) == {"id", "sha256", "size", "media_type", "name"}
    assert (record["name"], record["media_type"], record["size"]) == (name, media, len(data))
    got = client.get(f"/api/v1/attachments/{record['id']}", headers=users["reviewer"].headers)
    assert got.status_code == 200 and got.data == data
    assert got.mimetype == media
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote(name)}" in got.headers["Content-Disposition"]
    event = client.get(f"/api/v1/cases/{case.id}/events", headers=users["reviewer"].headers)
    [taken] = event.get_json()["items"][-1]["payload"]["documents"]
    assert taken == {"attachment": record["id"], "sha256": record["sha256"],
                     "size": len(data), "media_type": media, "name": name}
    assert verify(engine.db, engine.registry, files=file_store).ok


def test_a_renamed_executable_is_refused_naming_the_allowed_kinds(client, users, case):
    refused = upload(client, users["handler"], case.id, "报告.pdf", ELF)
    assert refused.status_code == 422
    reason = refused.get_json()["fields"]["file"]
    assert "PDF" in reason and "按文件内容判断" in reason
    english = client.post(f"/api/v1/cases/{case.id}/attachments?lang=en",
                          headers=users["handler"].headers,
                          data={"file": (io.BytesIO(ELF), "report.pdf")})
    assert "only PDF" in english.get_json()["fields"]["file"]


def test_an_over_size_file_is_refused_naming_the_limit(client, engine, users, case):
    set_org_settings(engine, "T", {"attachments": {"max_mb": 1}})
    big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
    refused = upload(client, users["handler"], case.id, "大.pdf", big)
    assert refused.status_code == 422
    assert "1 MB" in refused.get_json()["fields"]["file"]
    with engine.db.read() as conn:
        assert conn.execute(sa.select(attachment_rows)).all() == []


def test_a_body_over_the_server_limit_is_a_413_with_a_reason(engine, users, case):
    app = create_app({"ENGINE": engine, "SECRET_KEY": "t", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "GONGKAI_UPLOAD_MB": 1})
    client = app.test_client()
    huge = b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024)
    refused = upload(client, users["handler"], case.id, "巨大.pdf", huge)
    assert refused.status_code == 413
    body = refused.get_json()
    assert body["error"] == "too_large" and "1 MB" in body["message"]
    login(client, users["handler"])
    page = client.post(f"/cases/{case.id}/actions/submit", **multipart({
        "amount": "1", "expected_version": "1", "documents": (io.BytesIO(huge), "巨大.pdf")}))
    assert page.status_code == 413 and "1 MB" in page.get_data(as_text=True)


# -- hostile input --------------------------------------------------------------------------------


def test_hostile_uploads_get_a_reason_never_a_5xx(client, users, case):
    path, headers = f"/api/v1/cases/{case.id}/attachments", users["handler"].headers
    no_field = client.post(path, headers=headers, data={"other": (io.BytesIO(pdf()), "a.pdf")})
    as_json = client.post(path, headers=headers, json={"file": "JVBERi0="})
    empty = client.post(path, headers=headers, data={"file": (io.BytesIO(b""), "空.pdf")})
    two = client.post(path, headers=headers, data={"file": [(io.BytesIO(pdf()), "a.pdf"),
                                                            (io.BytesIO(pdf()), "b.pdf")]})
    for refused in (no_field, as_json, empty, two):
        assert refused.status_code == 422, refused.get_data(as_text=True)
        assert refused.get_json()["fields"]["file"]
    assert "文件为空" in empty.get_json()["fields"]["file"]
    names = {"a\x00b.pdf": "ab.pdf", "../../etc/passwd.pdf": "passwd.pdf",
             "..\\..\\boot.ini.pdf": "boot.ini.pdf",
             "=SUM(A1:A9)|cmd.pdf": "=SUM(A1A9)cmd.pdf", "会议纪要（第1次）.pdf":
             "会议纪要（第1次）.pdf"}
    for sent, shown in names.items():
        made = upload(client, users["handler"], case.id, sent, pdf())
        assert made.status_code == 201, made.get_data(as_text=True)
        assert made.get_json()["name"] == shown
        got = client.get(f"/api/v1/attachments/{made.get_json()['id']}", headers=headers)
        assert got.status_code == 200
        disposition = got.headers["Content-Disposition"]
        assert "\x00" not in disposition and "/" not in disposition.split("filename*=")[1]


@pytest.mark.parametrize("value", ["x", [True], ["1"], [2**64], [-1], [0], {"id": 1},
                                   [10**30]])
def test_bad_ids_in_a_payload_are_a_422(client, users, case, value):
    fired = client.post(f"/api/v1/cases/{case.id}/actions/submit",
                        headers=users["handler"].headers,
                        json={"payload": {"amount": 1, "documents": value},
                              "expected_version": 1})
    assert fired.status_code == 422, fired.get_data(as_text=True)
    assert fired.get_json()["fields"]["documents"]


@pytest.mark.parametrize("path", [
    "/api/v1/attachments/0", "/api/v1/attachments/-1", "/api/v1/attachments/abc",
    f"/api/v1/attachments/{2**64}", f"/api/v1/attachments/{2**53}", "/attachments/1",
    f"/board/items/1/attachments/{2**64}", f"/cases/{2**64}/attachments/{2**64}",
    f"/track/YS-2026-000001/attachments/{2**64}"])
def test_hostile_paths_are_a_404(client, users, path):
    login(client, users["handler"])
    got = client.get(path, headers=users["handler"].headers)
    assert got.status_code == 404, path


def test_uploading_to_an_unknown_or_huge_case_is_a_404(client, users):
    for case_id in (999999, 2**64):
        refused = upload(client, users["handler"], case_id, "a.pdf", pdf())
        assert refused.status_code == 404


# -- who may read ---------------------------------------------------------------------------------


def test_a_case_file_is_not_read_outside_the_case_scope(client, engine, users, case, members):
    record = submitted(client, users, case, "内部材料.pdf", pdf())
    url = f"/api/v1/attachments/{record['id']}"
    for name in ("handler", "reviewer", "member", "upper"):
        assert client.get(url, headers=users[name].headers).status_code == 200, name
    for name in ("sibling", "child"):
        assert client.get(url, headers=users[name].headers).status_code == 404, name
    assert client.get(url, headers=members["B"].headers).status_code == 404
    assert client.get(url).status_code == 404, "anonymous: as if it did not exist"
    wrong = client.get(url, headers=bearer("gk_wrong"))
    assert wrong.status_code == 401
    page = f"/cases/{case.id}/attachments/{record['id']}"
    assert client.get(page).status_code == 302, "the case page wants a login"
    assert client.get(f"/board/items/{case.id}/attachments/{record['id']}").status_code == 404
    login(client, users["sibling"])
    assert client.get(page).status_code == 404
    assert client.get(f"{page}/preview").status_code == 404
    login(client, users["reviewer"])
    assert client.get(page).status_code == 200
    other = engine.start("sample", "T", actor_of(engine, users["handler"]), {"title": "另一"})
    assert client.get(f"/cases/{other.id}/attachments/{record['id']}").status_code == 404, (
        "a link names the file's own case")


def test_an_unused_upload_is_read_by_its_uploader_only(client, engine, users, case):
    colleague = make_user(engine, "handler-2", "T", ("handler",))
    made = upload(client, users["handler"], case.id, "草稿.pdf", pdf()).get_json()
    url = f"/api/v1/attachments/{made['id']}"
    assert client.get(url, headers=users["handler"].headers).status_code == 200
    assert client.get(url, headers=colleague.headers).status_code == 404
    assert client.get(url, headers=users["reviewer"].headers).status_code == 404
    assert client.get(url).status_code == 404


def test_g1_an_internal_item_file_reaches_only_members_of_its_subtree(client, engine, users,
                                                                     members):
    found = item(engine, users, "internal", False,
                 {"documents": [Upload("党内通报.pdf", pdf())]})
    [file_id] = ids_in(engine, found.id, "documents")
    api, board = (f"/api/v1/attachments/{file_id}",
                  f"/board/items/{found.id}/attachments/{file_id}")
    assert client.get(api).status_code == 404
    assert client.get(board).status_code == 404
    assert "党内通报.pdf" not in client.get(f"/board/items/{found.id}").get_data(as_text=True)
    assert client.get(api, headers=members["V"].headers).status_code == 200
    assert client.get(api, headers=members["B"].headers).status_code == 404
    login(client, members["V"])
    page = client.get(f"/board/items/{found.id}").get_data(as_text=True)
    assert "党内通报.pdf" in page and board in page
    assert client.get(board).status_code == 200
    login(client, members["B"])
    assert client.get(board).status_code == 404


def test_g1_a_public_item_files_reach_everyone_once_released_personal_ones_never(
        client, engine, users, members):
    files = {"documents": [Upload("工作要点.pdf", pdf()), Upload("附表.docx", docx())],
             "id_scan": [Upload("身份证.png", png())]}
    half = item(engine, users, "public", False, files | {"documents": [Upload("半.pdf", pdf())]})
    [half_id] = ids_in(engine, half.id, "documents")
    assert client.get(f"/api/v1/attachments/{half_id}").status_code == 404, (
        "not before its public release (G1: internal first)")
    out = item(engine, users, "public", True, files)
    shown, [scan] = ids_in(engine, out.id, "documents"), ids_in(engine, out.id, "id_scan")
    for file_id in shown:
        got = client.get(f"/board/items/{out.id}/attachments/{file_id}")
        assert got.status_code == 200 and got.headers["Content-Disposition"].startswith(
            "attachment")
        assert client.get(f"/api/v1/attachments/{file_id}").status_code == 200
    page = client.get(f"/board/items/{out.id}").get_data(as_text=True)
    assert "工作要点.pdf" in page and "附表.docx" in page and "身份证.png" not in page
    for who in (None, members["V"], members["B"]):
        headers = who.headers if who else {}
        assert client.get(f"/api/v1/attachments/{scan}", headers=headers).status_code == 404
    assert client.get(f"/board/items/{out.id}/attachments/{scan}").status_code == 404


def test_an_officer_reading_personal_data_is_a_download_event(client, engine, users, case,
                                                              file_store):
    made = upload(client, users["member"], case.id, "身份证.png", png()).get_json()
    commented = client.post(f"/api/v1/cases/{case.id}/actions/comment",
                            headers=users["member"].headers,
                            json={"payload": {"text": "附身份证", "id_card": [made["id"]]}})
    assert commented.status_code == 200, commented.get_json()
    seq = engine.get(case.id, actor_of(engine, users["reviewer"])).seq
    login(client, users["reviewer"])
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "身份证.png" in page and "个人信息" in page
    assert 'class="thumb"' not in page, "opening the page reads no personal file"
    assert engine.get(case.id, actor_of(engine, users["reviewer"])).seq == seq
    got = client.get(f"/api/v1/attachments/{made['id']}", headers=users["reviewer"].headers)
    assert got.status_code == 200
    shown = client.get(f"/cases/{case.id}/attachments/{made['id']}/preview")
    assert shown.status_code == 200
    reads = [e for e in case_events(engine.db, case.id) if e["trigger"] == "download"]
    assert [e["actor"] for e in reads] == ["user:reviewer", "user:reviewer"]
    assert json.loads(reads[0]["payload"])["attachment"]["attachment"] == made["id"]
    assert engine.get(case.id, actor_of(engine, users["reviewer"])).version == 1
    assert verify(engine.db, engine.registry, files=file_store).ok
    client.get(f"/api/v1/attachments/{made['id']}", headers=users["sibling"].headers)
    assert len([e for e in case_events(engine.db, case.id) if e["trigger"] == "download"]) == 2
    other = make_user(engine, "member-2", "T", ("member",))
    assert client.get(f"/api/v1/attachments/{made['id']}",
                      headers=other.headers).status_code == 404, \
        "another member sees the case but not the personal file"
    assert client.get(f"/api/v1/attachments/{made['id']}",
                      headers=users["member"].headers).status_code == 200, "its sender does"


# -- the pages ------------------------------------------------------------------------------------


def test_the_case_page_attaches_lists_and_previews_files(client, engine, users, case):
    login(client, users["handler"])
    form = client.get(f"/cases/{case.id}").get_data(as_text=True)
    submit = re.search(r'<form[^>]*id="action-submit"[^>]*>', form).group(0)
    assert 'enctype="multipart/form-data"' in submit
    file_input = re.search(r'<input id="submit-documents" type="file"[^>]*>', form).group(0)
    assert "multiple" in file_input and ".pdf" in file_input and "application/pdf" in file_input
    assert "每个文件不超过 10 MB" in form
    refused = client.post(f"/cases/{case.id}/actions/submit", content_type="multipart/form-data",
                          data={"amount": "1", "expected_version": "1",
                                "documents": (io.BytesIO(ELF), "报告.pdf")})
    assert refused.status_code == 422 and "按文件内容判断" in refused.get_data(as_text=True)
    minutes = pdf()
    done = client.post(f"/cases/{case.id}/actions/submit", content_type="multipart/form-data",
                       data={"amount": "1", "expected_version": "1", "documents": [
                           (io.BytesIO(minutes), "纪要.pdf"), (io.BytesIO(png()), "照片.png"),
                           (io.BytesIO(docx()), "方案.docx"), (io.BytesIO(b""), "")]})
    assert done.status_code == 302, done.get_data(as_text=True)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    listed = page[page.index('id="attachments"'):]
    assert "纪要.pdf" in listed and "照片.png" in listed and "方案.docx" in listed
    ids = dict(zip(("pdf", "png", "docx"), ids_in(engine, case.id, "documents"), strict=True))
    assert f'/cases/{case.id}/attachments/{ids["pdf"]}/preview' in listed
    assert f'/cases/{case.id}/attachments/{ids["docx"]}/preview' not in listed
    assert 'class="thumb"' in listed, "a non-personal image is shown on the page"
    for kind in ("pdf", "png"):
        shown = client.get(f"/cases/{case.id}/attachments/{ids[kind]}/preview")
        assert shown.headers["Content-Disposition"].startswith("inline")
        assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
        assert shown.headers["X-Content-Type-Options"] == "nosniff"
    office = client.get(f"/cases/{case.id}/attachments/{ids['docx']}/preview")
    assert office.headers["Content-Disposition"].startswith("attachment"), "download only"
    assert "sandbox" in office.headers["Content-Security-Policy"]
    plain = client.get(f"/cases/{case.id}/attachments/{ids['pdf']}")
    assert plain.headers["Content-Disposition"].startswith("attachment") and plain.data == minutes


def test_a1_an_application_carries_files_and_its_answer_the_released_information(
        client, engine, users):
    form = client.get("/apply/application").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    letter = pdf()
    sent = client.post("/apply/application", content_type="multipart/form-data", data={
        "org": "T", "name": "张三", "phone": "13912345678", "description": "党费使用情况",
        "purpose": "监督", "delivery": "electronic",
        "documents": (io.BytesIO(letter), "委托书.pdf")})
    assert sent.status_code == 201, sent.get_data(as_text=True)
    text = sent.get_data(as_text=True)
    code = re.search(r'id="tracking-code">([^<]+)<', text).group(1)
    access = re.search(r'id="access-code">([^<]+)<', text).group(1)
    case_id = engine.get_by_code(code, applicant(code)).id
    [file_id] = ids_in(engine, case_id, "documents")
    url = f"/track/{code}/attachments/{file_id}"
    assert client.get(url).status_code == 404, "nothing before the access code"
    assert client.get(f"/api/v1/attachments/{file_id}").status_code == 404
    client.post("/track", data={"code": code, "access": access})
    page = client.get(f"/track/{code}").get_data(as_text=True)
    assert "委托书.pdf" in page and url in page
    got = client.get(url)
    assert got.status_code == 200 and got.data == letter
    handler, reviewer = (actor_of(engine, users[n]) for n in ("handler", "reviewer"))
    case = engine.fire(case_id, "register", handler, {}, 1)
    information = pdf()
    case = engine.fire(case_id, "draft_answer", handler, {
        "outcome": "disclosed", "content": "见附件", "released": [Upload("党费明细.pdf",
                                                                      information)]},
        case.version)
    [released] = ids_in(engine, case_id, "released")
    release = f"/track/{code}/attachments/{released}"
    assert client.get(release).status_code == 404, "a draft answer stays inside"
    engine.fire(case_id, "approve", reviewer, {}, case.version)
    page = client.get(f"/track/{code}").get_data(as_text=True)
    assert "党费明细.pdf" in page and release in page
    assert client.get(release).data == information
    bad = client.post("/apply/application", content_type="multipart/form-data", data={
        "org": "T", "name": "李四", "phone": "13912345678", "description": "x",
        "purpose": "监督", "delivery": "electronic",
        "documents": (io.BytesIO(ELF), "委托书.pdf")})
    assert bad.status_code == 422 and "按文件内容判断" in bad.get_data(as_text=True)


def test_the_api_document_describes_upload_and_download(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"]["/api/v1/cases/{case_id}/attachments"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert set(post["responses"]) >= {"201", "403", "404", "413", "422"}
    get = doc["paths"]["/api/v1/attachments/{attachment_id}"]["get"]
    assert get["security"] == [{}, {"bearer": []}]
    assert get["responses"]["200"]["content"]["application/octet-stream"]["schema"] == {
        "type": "string", "format": "binary"}
    assert set(doc["components"]["schemas"]["Attachment"]["required"]) == {
        "id", "sha256", "size", "media_type", "name"}


def test_a_file_changed_on_disk_is_not_served(client, users, case, file_store):
    record = submitted(client, users, case, "纪要.pdf", pdf())
    file_store._path(record["sha256"]).write_bytes(b"%PDF-1.4 forged")
    got = client.get(f"/api/v1/attachments/{record['id']}", headers=users["reviewer"].headers)
    assert got.status_code == 409 and "摘要不符" in got.get_json()["message"]
    file_store._path(record["sha256"]).unlink()
    assert client.get(f"/api/v1/attachments/{record['id']}",
                      headers=users["reviewer"].headers).status_code == 409


@pytest.mark.parametrize("path", [f"/api/v1/cases/{2**64}", f"/api/v1/cases/{2**53}/events",
                                  f"/cases/{2**64}", f"/board/items/{2**64}"])
def test_a_huge_id_in_any_path_is_a_404(client, users, path):
    login(client, users["handler"])
    assert client.get(path, headers=users["handler"].headers).status_code == 404


def test_a5_a_clarification_on_the_tracking_page_carries_files(client, engine, users):
    sent = client.post("/apply/application", data={
        "org": "T", "name": "张三", "phone": "13912345678", "description": "党费",
        "purpose": "监督", "delivery": "electronic"})
    text = sent.get_data(as_text=True)
    code = re.search(r'id="tracking-code">([^<]+)<', text).group(1)
    access = re.search(r'id="access-code">([^<]+)<', text).group(1)
    case = engine.get_by_code(code, applicant(code))
    engine.fire(case.id, "request_clarification", actor_of(engine, users["handler"]),
                {"missing": "请补充身份证明"}, case.version)
    client.post("/track", data={"code": code, "access": access})
    page = client.get(f"/track/{code}").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="action-clarify"[^>]*>', page).group(0)
    assert 'enctype="multipart/form-data"' in form
    proof = png()
    done = client.post(f"/track/{code}/actions/clarify", content_type="multipart/form-data",
                       data={"supplement": "已补充", "expected_version": str(
                           engine.get_by_code(code, applicant(code)).version),
                             "documents": (io.BytesIO(proof), "身份证明.png")})
    assert done.status_code == 302, done.get_data(as_text=True)
    [file_id] = ids_in(engine, case.id, "documents")
    assert client.get(f"/track/{code}/attachments/{file_id}").data == proof
