"""The ``gongkai`` command line, in-process through click's CliRunner.

Exit codes are part of the contract: 0 ok, 1 a problem found, 2 bad input (with a
Chinese message first). Every invocation names the database with
``GONGKAI_DATABASE_URL`` and finds the test-only ``sample`` process through
``GONGKAI_PROCESSES``.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa

from workflow.store.models import Definition, cases, events, timers

pytestmark = pytest.mark.dates  # swept over several days by make test

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai
CJK = re.compile(r"[\u4e00-\u9fff]")

NATIONAL_DAY_2026 = {
    "due": "2026-10-30", "provisional": False,
    "skipped": [{"date": f"2026-10-0{d}", "reason": "国庆节"} for d in range(1, 8)] + [
        {"date": "2026-10-11", "reason": "周日"},
        {"date": "2026-10-17", "reason": "周六"}, {"date": "2026-10-18", "reason": "周日"},
        {"date": "2026-10-24", "reason": "周六"}, {"date": "2026-10-25", "reason": "周日"}],
}

#: an official schedule for 2031, a year chinesecalendar cannot know: 国庆 for 7 days
#: where the statutory fallback knows only 3
SCHEDULE_2031 = "date,type,name\n" + "".join(f"2031-10-0{d},holiday,国庆节\n" for d in range(1, 8))


def ok(result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result.stdout


def bad_input(result, *needles: str) -> str:
    """Exit 2 with a Chinese message (stderr) naming what was wrong."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert CJK.search(result.stderr), result.stderr
    for needle in needles:
        assert needle in result.stderr
    return result.stderr


@pytest.fixture
def cases_made(run, engine, people):
    """Orgs and two sample cases written by the engine beside the CLI (same database)."""
    ok(run("init"))
    a = engine.start("sample", "T", people["handler"], {"title": "办公用品"}, NOW)
    engine.fire(a.id, "comment", people["member"], {"text": "支持"}, None, NOW)
    engine.fire(a.id, "submit", people["handler"], {"amount": 5}, 1, NOW)
    b = engine.start("sample", "T", people["handler"], {"title": "学习材料"}, NOW)
    return {"a": a.id, "b": b.id}


# -- init, organisations ------------------------------------------------------------------


def test_init_is_idempotent(run, db):
    first = ok(run("init"))
    assert "数据库已就绪" in first
    assert "数据库已就绪" in ok(run("init"))
    with db.read() as conn:
        kinds = conn.execute(sa.select(Definition.__table__.c.kind,
                                       Definition.__table__.c.version)).all()
    from machines import definitions

    installed = {(p.kind, p.version) for p in definitions()}
    assert {tuple(k) for k in kinds} == installed | {("sample", 1)}


def test_org_add_and_list(run):
    ok(run("org", "add", "C", "县委", "--type", "county_committee"))
    ok(run("org", "add", "T", "某镇党委", "--parent", "C", "--type", "town"))
    assert "V" in ok(run("org", "add", "V", "某村党支部", "--parent", "T", "--type", "village"))
    listed = json.loads(ok(run("org", "list", "--json")))
    assert listed == [
        {"code": "C", "name": "县委", "type": "county_committee", "parent": None},
        {"code": "T", "name": "某镇党委", "type": "town", "parent": "C"},
        {"code": "V", "name": "某村党支部", "type": "village", "parent": "T"},
    ]
    plain = ok(run("org", "list")).splitlines()
    assert plain[0].startswith("C\t县委") and plain[2].startswith("    V\t")


def test_org_add_refuses_bad_input(run):
    ok(run("org", "add", "C", "县委", "--type", "county_committee"))
    bad_input(run("org", "add", "C", "重复"), "组织代码已存在")
    bad_input(run("org", "add", "X", "无上级", "--parent", "NOPE"), "找不到上级组织 NOPE")
    bad_input(run("org", "add", "Y", "类型错", "--type", "planet"), "组织类型应为")
    assert len(json.loads(ok(run("org", "list", "--json")))) == 1


# -- calendar -------------------------------------------------------------------------------


def test_calendar_due_over_national_day(run):
    out = ok(run("calendar", "due", "2026-09-28", "20", "--json"))
    assert out == json.dumps(NATIONAL_DAY_2026, ensure_ascii=False) + "\n"
    plain = ok(run("calendar", "due", "2026-09-28", "20")).splitlines()
    assert plain[-1] == "2026-10-30" and "国庆节 7 天" in plain[0]


def test_calendar_due_into_an_unpublished_year_is_provisional(run):
    due = json.loads(ok(run("calendar", "due", "2031-09-22", "20", "--json")))
    assert due["due"] == "2031-10-23" and due["provisional"] is True
    assert {"date": "2031-10-02", "reason": "国庆节"} in due["skipped"]
    assert "暂定" in ok(run("calendar", "due", "2031-09-22", "20"))


def test_calendar_import_makes_deadlines_official_and_recomputes_timers(
        run, engine, people, tmp_path):
    ok(run("init"))
    submitted = dt.datetime(2031, 9, 26, 2, 0, tzinfo=dt.UTC)  # a Friday
    case = engine.start("sample", "T", people["handler"], {"title": "节前事项"}, submitted)
    case = engine.fire(case.id, "submit", people["handler"], {"amount": 5}, 1, submitted)
    assert case.due_date == dt.date(2031, 10, 15) and case.due_provisional

    def pending() -> dict[str, bool]:
        with engine.db.read() as conn:
            return {r.name: bool(r.provisional) for r in conn.execute(
                sa.select(timers.c.name, timers.c.provisional)
                .where(timers.c.case_id == case.id, timers.c.status == "pending"))}

    assert pending() == {"deadline": True, "deadline.remind5": True, "deadline.remind1": True}

    schedule = tmp_path / "2031.csv"
    schedule.write_text(SCHEDULE_2031, encoding="utf-8")
    out = ok(run("calendar", "import", str(schedule)))
    assert "已导入 7 天" in out and "重新计算 3 个暂定期限" in out

    assert pending() == {"deadline": False, "deadline.remind5": False,
                         "deadline.remind1": False}
    case = engine.get(case.id, people["reviewer"])
    assert case.due_date == dt.date(2031, 10, 17) and not case.due_provisional, \
        "the official 7 days of 国庆 move the deadline by two working days"
    assert case.due_explain["provisional"] is False
    due = json.loads(ok(run("calendar", "due", "2031-09-22", "20", "--json")))
    assert due["due"] == "2031-10-27" and due["provisional"] is False


def test_calendar_refuses_bad_input(run, tree, tmp_path):
    bad_input(run("calendar", "due", "2026-13-01", "20"), "日期格式应为 YYYY-MM-DD")
    bad_input(run("calendar", "due", "28/09/2026", "20"), "日期格式应为 YYYY-MM-DD")
    bad_input(run("calendar", "due", "--", "2026-09-28", "-1"), "不能为负数")
    bad_input(run("calendar", "due", "2026-09-28", "20", "--org", "NOPE"), "找不到组织 NOPE")
    assert ok(run("calendar", "due", "2026-09-28", "20", "--org", "V")).endswith(
        "2026-10-30\n")
    broken = tmp_path / "bad.csv"
    broken.write_text("date,type,name\n2027-01-01,maybe,元旦\n", encoding="utf-8")
    bad_input(run("calendar", "import", str(broken)), "类型无效")
    good = tmp_path / "2031.csv"
    good.write_text(SCHEDULE_2031, encoding="utf-8")
    bad_input(run("calendar", "import", str(good), "--org", "NOPE"), "找不到组织 NOPE")


# -- timers --------------------------------------------------------------------------------


def test_timers_run_due_prints_how_many_fired(run, cases_made, engine, people):
    assert ok(run("timers", "run-due", "--now", "2026-11-05T00:00:00Z")).splitlines()[-1] == "0"
    out = ok(run("timers", "run-due", "--now", "2026-12-01T10:00:00+08:00"))
    assert "已触发 3 个定时器" in out and out.splitlines()[-1] == "3"
    assert ok(run("timers", "run-due", "--now", "2026-12-02T10:00:00")).splitlines()[-1] == "0"
    case = engine.get(cases_made["a"], people["reviewer"])
    assert case.state == "expired" and case.seq == 6


def test_timers_run_due_refuses_a_bad_time(run):
    bad_input(run("timers", "run-due", "--now", "tomorrow"), "时间格式无效", "tomorrow")


# -- audit ---------------------------------------------------------------------------------


def test_audit_checkpoint_and_verify_clean_then_tampered(run, cases_made, engine):
    out = ok(run("audit", "checkpoint"))
    assert "检查点 1 已写入（2 个案件）" in out
    out = ok(run("audit", "verify"))
    assert "完好" in out and "2 cases, 4 events, 1 checkpoints" in out
    assert json.loads(ok(run("audit", "verify", "--json")))["ok"] is True

    a = cases_made["a"]
    with engine.db.engine.begin() as conn:
        conn.execute(sa.update(events).where(events.c.case_id == a, events.c.seq == 2)
                     .values(actor="user:qian"))
    result = run("audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"案件 {a} 第 2 号事件: [event_edited]" in result.stdout
    for jobs in ("1", "2"):
        result = run("audit", "verify", "--json", "--jobs", jobs)
        assert result.exit_code == 1
        report = json.loads(result.stdout)
        assert report["ok"] is False
        assert [(p["case_id"], p["seq"], p["code"]) for p in report["problems"]] == [
            (a, 2, "event_edited")]


def test_audit_verify_names_a_case_deleted_after_the_checkpoint(run, cases_made, engine):
    ok(run("audit", "checkpoint"))
    b = cases_made["b"]
    with engine.db.engine.begin() as conn:
        conn.execute(sa.delete(timers).where(timers.c.case_id == b))
        conn.execute(sa.delete(events).where(events.c.case_id == b))
        conn.execute(sa.delete(cases).where(cases.c.id == b))
    result = run("audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"案件 {b} 第 1 号事件: [case_deleted]" in result.stdout


def test_audit_replay_prints_the_rebuilt_case(run, cases_made):
    rebuilt = json.loads(ok(run("audit", "replay", str(cases_made["a"]))))
    assert rebuilt["case_id"] == cases_made["a"] and rebuilt["kind"] == "sample"
    assert (rebuilt["state"], rebuilt["version"], rebuilt["seq"]) == ("review", 2, 3)
    assert rebuilt["data"]["comments"] == ["支持"] and rebuilt["data"]["amount"] == 5
    assert json.loads(ok(run("audit", "replay", str(cases_made["b"]))))["state"] == "draft"
    result = run("audit", "replay", "999")
    assert result.exit_code == 1 and "案件 999 没有事件" in result.stderr


def test_audit_export_and_verify_bundle(run, cases_made, tmp_path):
    ok(run("audit", "checkpoint"))
    full, public = tmp_path / "full.jsonl", tmp_path / "public.jsonl.gz"
    assert "2 cases, 4 events, 1 checkpoints" in ok(run("audit", "export", "--out", str(full)))
    ok(run("audit", "export", "--out", str(public), "--redacted"))
    assert "完好" in ok(run("audit", "verify", "--bundle", str(full)))
    assert json.loads(ok(run("audit", "verify", "--bundle", str(public), "--json")))["ok"]

    rows = [json.loads(line) for line in full.read_text(encoding="utf-8").splitlines()]
    kept = [r for r in rows if not (r["type"] == "event" and r["case_id"] == cases_made["a"]
                                    and r["seq"] == 2)]
    full.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept),
                    encoding="utf-8")
    result = run("audit", "verify", "--bundle", str(full))
    assert result.exit_code == 1, result.output
    assert f"案件 {cases_made['a']} 第 2 号事件: [events_missing]" in result.stdout


def test_audit_export_with_files_carries_them_and_verify_checks_them(
        run, cases_made, engine, people, file_store, tmp_path):
    from tests.workflow.test_attachments import pdf
    from workflow.core.schema import Upload

    case = engine.start("sample", "T", people["handler"], {"title": "带附件"}, NOW)
    engine.fire(case.id, "submit", people["handler"],
                {"amount": 5, "documents": [Upload("纪要.pdf", pdf())]}, 1, NOW)
    bundle = tmp_path / "files.jsonl"
    assert "1 attachments, 1 files" in ok(run("audit", "export", "--out", str(bundle),
                                              "--with-files"))
    assert "完好" in ok(run("audit", "verify", "--bundle", str(bundle)))
    rows = [json.loads(line) for line in bundle.read_text(encoding="utf-8").splitlines()]
    rows[-1]["data"] = "JVBERi0xLjQgZm9yZ2Vk"  # base64 of other bytes
    bundle.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                      encoding="utf-8")
    result = run("audit", "verify", "--bundle", str(bundle))
    assert result.exit_code == 1 and "[file_altered]" in result.stdout and "纪要.pdf" in \
        result.stdout
    bad_input(run("audit", "export", "--out", str(bundle), "--redacted", "--with-files"),
              "--with-files")
    [digest] = file_store.digests()
    file_store.delete(digest)
    done = run("audit", "export", "--out", str(bundle), "--with-files")
    assert done.exit_code == 0 and "缺少 1 个" in done.stderr
    assert "[file_missing]" in run("audit", "verify", "--bundle", str(bundle)).stdout


def test_audit_verify_refuses_a_file_that_is_not_a_bundle(run, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("这不是审计包\n", encoding="utf-8")
    bad_input(run("audit", "verify", "--bundle", str(other)), "不是 JSON")
    other.write_text('{"format": "other"}\n', encoding="utf-8")
    bad_input(run("audit", "verify", "--bundle", str(other)), "不是 gongkai 审计包")


def test_org_settings_set_inherit_and_unset(run, db):
    ok(run("org", "add", "C", "县委", "--type", "county_committee"))
    ok(run("org", "add", "T", "镇", "--parent", "C", "--type", "town"))
    ok(run("org", "settings", "C", "--set", "sample.deadline_days=15"))
    import json

    shown = json.loads(ok(run("org", "settings", "T", "--json")))
    assert shown["effective"]["sample"]["deadline_days"] == 15 and shown["own"] == {}
    ok(run("org", "settings", "T", "--set", "sample.reminders=[3]"))
    shown = json.loads(ok(run("org", "settings", "T", "--json")))
    assert shown["effective"]["sample"]["reminders"] == [3]
    ok(run("org", "settings", "C", "--unset", "sample.deadline_days"))
    shown = json.loads(ok(run("org", "settings", "T", "--json")))
    assert shown["effective"]["sample"]["deadline_days"] == 10
    bad = run("org", "settings", "C", "--set", "sample.nonsense=1")
    assert bad.exit_code == 2 and "没有这个设置" in bad.stderr


def test_org_settings_for_attachments_are_checked_and_inherited(run, db):
    import json

    ok(run("org", "add", "C", "县委", "--type", "county_committee"))
    ok(run("org", "add", "T", "镇", "--parent", "C", "--type", "town"))
    ok(run("org", "settings", "C", "--set", "attachments.max_mb=20",
           "--set", 'attachments.types=["pdf","png"]'))
    shown = json.loads(ok(run("org", "settings", "T", "--json")))
    assert shown["effective"]["attachments"] == {"max_mb": 20, "types": ["pdf", "png"]}
    bad_input(run("org", "settings", "C", "--set", "attachments.max_mb=0"), "1024")
    bad_input(run("org", "settings", "C", "--set", 'attachments.types=["exe"]'), "pdf")
