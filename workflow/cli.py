"""The ``gongkai`` command line: the contract users, scripts and other issues rely on.

Every command names the database with ``GONGKAI_DATABASE_URL`` (default: SQLite under
``instance/``) and brings the schema up to date first, so none fails on a new machine.
Errors are printed in Chinese, then English; exit codes: 0 ok, 1 failure found, 2 bad input.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import click

from workflow.base.errors import WorkflowError
from workflow.base.text import Text
from workflow.base.timeutil import parse_iso
from workflow.core import attachments
from workflow.service import build
from workflow.store import migrate

#: settings groups beside the processes' own, ``group: (defaults, check)``; ``check(name,
#: value)`` returns why a value is refused. Packages above the engine add theirs (the
#: notifications' quiet hours, web/cli.py), so the engine names none of them.
SETTINGS_GROUPS: dict[str, tuple[dict, Callable[[str, object], Text | None]]] = {
    attachments.SETTINGS_GROUP: (attachments.SETTINGS, attachments.bad_setting),
}


def _engine(init: bool = True):
    engine = build()
    if init:
        migrate.upgrade(engine.db)
        engine.record_definitions()
    return engine


def fail(message: str, code: int = 2) -> None:
    """Say what was wrong (Chinese first) and exit: 2 bad input, 1 a problem found."""
    click.echo(message, err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """gongkai：党务公开工作流服务 / workflow service for Party-affairs disclosure."""


@main.command()
def init() -> None:
    """创建或升级数据库（可重复执行） / create or upgrade the database; idempotent."""
    engine = _engine()
    click.echo(f"数据库已就绪 / database ready: {engine.db.engine.url.render_as_string()}")


@main.command()
@click.option("--if-empty", is_flag=True, help="只在数据库为空时载入 / only into an empty database")
def demo(if_empty: bool) -> None:
    """载入演示组织、用户和案件 / load demo organisations, users and cases."""
    from workflow import demo as demo_data

    engine = _engine()
    if if_empty and not demo_data.is_empty(engine):
        click.echo("数据库已有数据，跳过演示数据 / database not empty: demo data skipped")
        return
    created = demo_data.load(engine)
    click.echo(f"演示数据已载入 / demo loaded: {created['orgs']} orgs, {created['cases']} cases")


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_cmd(file: Path) -> None:
    """把数据库备份到 FILE（附件和密钥另行备份） / back the database up to FILE.

    SQLite: the online backup API, safe while the service runs; PostgreSQL: pg_dump -Fc.
    The attachments' files and the checkpoint keys are not in it (README, Backups)."""
    from workflow.store import backup

    try:
        backup.backup(_engine(init=False).db, file)
    except backup.BackupFailed as exc:
        fail(str(exc), 1)
    click.echo(f"已备份 / backed up to {file}")


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="覆盖已有数据的数据库 / replace a database that already holds data")
def restore_cmd(file: Path, force: bool) -> None:
    """用 FILE 替换数据库的内容（之后用 audit verify 核对） / restore the database from FILE.

    All or nothing; a database that already holds organisations is replaced only with
    --force. Check a restored copy with `gongkai audit verify`."""
    from workflow.store import backup

    db = _engine(init=False).db
    if not force and backup.holds_data(db):
        fail("数据库已有数据；确认要覆盖请加 --force / "
              "the database already holds data; add --force to replace it")
    try:
        backup.restore(db, file)
    except backup.BackupFailed as exc:
        fail(str(exc), 1)
    finally:
        db.dispose()
    click.echo(f"已从 {file} 恢复 / restored from {file}")


@main.group()
def timers() -> None:
    """定时器 / timers."""


@timers.command("run-due")
@click.option("--now", "now_text", help="ISO 时间，默认现在 / ISO date-time, default now")
def run_due_cmd(now_text: str | None) -> None:
    """触发到期的定时器，每个只触发一次 / fire every due timer, each exactly once."""
    from workflow.core.timers import run_due

    try:
        now = parse_iso(now_text) if now_text else None
    except ValueError:
        fail(f"时间格式无效：{now_text} / invalid date-time: {now_text}")
    fired = run_due(_engine(), now)
    click.echo(f"已触发 {fired} 个定时器 / fired {fired} timers")
    click.echo(fired)


@main.group()
def calendar() -> None:
    """工作日日历 / the working-day calendar."""


@calendar.command("due")
@click.argument("start")
@click.argument("n", type=int)
@click.option("--org", "org_code", help="按该组织的调整计算 / with this organisation's overrides")
@click.option("--json", "as_json", is_flag=True)
def calendar_due(start: str, n: int, org_code: str | None, as_json: bool) -> None:
    """START 之后第 N 个工作日（收到当日不计） / the N-th working day after START."""
    from workflow.people.orgs import org_by_code

    try:
        start_day = dt.date.fromisoformat(start)
    except ValueError:
        fail(f"日期格式应为 YYYY-MM-DD：{start} / date must be YYYY-MM-DD: {start}")
    if n < 0:
        fail("N 不能为负数 / N must not be negative")
    engine = _engine()
    with engine.db.read() as conn:
        try:
            path = org_by_code(conn, org_code).path if org_code else "/"
        except WorkflowError as exc:
            fail(str(exc.message))
        due = engine.calendars.for_org(conn, path).add_working_days(start_day, n)
    if as_json:
        click.echo(json.dumps(due.to_json(), ensure_ascii=False))
    else:
        click.echo(due.explain("zh"))
        click.echo(due.due.isoformat())


@calendar.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_code",
              help="作为该组织的调整导入 / import as an organisation's overrides")
def calendar_import(file: Path, org_code: str | None) -> None:
    """导入当年官方放假安排（CSV 或 JSON） / import the year's official schedule."""
    from workflow.calendar.holidays import ScheduleError, parse_schedule
    from workflow.calendar.workdays import store_days
    from workflow.core.timers import recompute_provisional
    from workflow.people.orgs import org_by_code

    try:
        entries = parse_schedule(file)
    except ScheduleError as exc:
        fail(str(exc))
    engine = _engine()
    with engine.db.write() as conn:
        try:
            org_id = org_by_code(conn, org_code).id if org_code else None
        except WorkflowError as exc:
            fail(str(exc.message))
        count = store_days(conn, org_id, entries)
    moved = recompute_provisional(engine)
    click.echo(f"已导入 {count} 天；重新计算 {moved} 个暂定期限 / imported {count} days; "
               f"recomputed {moved} provisional deadlines")


@main.group()
def org() -> None:
    """组织 / organisations."""


@org.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--parent", help="上级组织代码 / parent organisation code")
@click.option("--type", "org_type", default="branch", show_default=True)
def org_add(code: str, name: str, parent: str | None, org_type: str) -> None:
    """新增组织 / add an organisation."""
    from workflow.people.orgs import add_org

    engine = _engine()
    try:
        with engine.db.write() as conn:
            row = add_org(conn, code, name, parent, org_type)
    except WorkflowError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        fail(f"{exc.message} {details}".strip())
    click.echo(f"已新增组织 / added {row['code']} {row['name']}")


@org.command("settings")
@click.argument("code")
@click.option("--set", "changes", multiple=True, metavar="KIND.NAME=VALUE",
              help="设置规则默认值，值为 JSON，如 application.deadline_days=15 / set a default")
@click.option("--unset", "removals", multiple=True, metavar="KIND.NAME",
              help="恢复上级或流程默认值 / fall back to the parent's or the process default")
@click.option("--json", "as_json", is_flag=True)
def org_settings(code: str, changes: tuple[str, ...], removals: tuple[str, ...],
                 as_json: bool) -> None:
    """查看或设置组织的规则默认值（下级继承） / an organisation's rule settings (inherited)."""
    from workflow.people.orgs import layered_settings, org_by_code, orgs

    engine = _engine()
    with engine.db.write() as conn:
        try:
            row = org_by_code(conn, code)
        except WorkflowError as exc:
            fail(str(exc.message))
        own = json.loads(row.settings or "{}")
        for change in changes:
            key, _, raw = change.partition("=")
            kind, _, name = key.partition(".")
            known = (kind in engine.registry and name in engine.registry.get(kind).process.settings
                     or kind in SETTINGS_GROUPS and name in SETTINGS_GROUPS[kind][0])
            if not known:
                fail(f"没有这个设置：{key} / no such setting: {key}")
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                value = raw
            if kind in SETTINGS_GROUPS and (wrong := SETTINGS_GROUPS[kind][1](
                    name, value)) is not None:
                fail(f"{key}：{wrong.zh} / {wrong.en}")
            own.setdefault(kind, {})[name] = value
        for key in removals:
            kind, _, name = key.partition(".")
            own.get(kind, {}).pop(name, None)
        conn.execute(orgs.update().where(orgs.c.id == row.id).values(
            settings=json.dumps(own, ensure_ascii=False, sort_keys=True)))
        effective = {c.kind: engine.settings_for(conn, row.path, c)
                     for c in engine.registry.latest() if c.process.settings}
        for group, (defaults, _check) in SETTINGS_GROUPS.items():
            effective[group] = layered_settings(conn, row.path, group, defaults)
    if as_json:
        click.echo(json.dumps({"own": own, "effective": effective}, ensure_ascii=False))
        return
    for kind, values in effective.items():
        for name, value in values.items():
            mark = "*" if name in own.get(kind, {}) else " "
            click.echo(f"{mark} {kind}.{name} = {json.dumps(value, ensure_ascii=False)}")
    click.echo("（* 为本组织设置；其余继承上级或流程默认值 / * set here; others inherited）")


@org.command("list")
@click.option("--json", "as_json", is_flag=True)
def org_list(as_json: bool) -> None:
    """列出组织 / list organisations."""
    from workflow.people.orgs import list_orgs

    with _engine().db.read() as conn:
        rows = list_orgs(conn)
    if as_json:
        click.echo(json.dumps([{k: r[k] for k in ("code", "name", "type", "parent")}
                               for r in rows], ensure_ascii=False))
        return
    for r in rows:
        depth = r["path"].count("/") - 2
        click.echo(f"{'  ' * depth}{r['code']}\t{r['name']}\t{r['type']}")


@main.group("user")
def user_group() -> None:
    """用户与角色 / people and roles."""


@user_group.command("add")
@click.argument("username")
@click.option("--org", "org_code", required=True, help="组织代码 / organisation code")
@click.option("--role", "roles", multiple=True, required=True,
              help="角色代码，可重复 / role code, repeatable")
@click.option("--name", "display_name", default="", help="显示名 / display name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码 / read the password")
def user_add(username: str, org_code: str, roles: tuple[str, ...], display_name: str,
             password_stdin: bool) -> None:
    """新增用户或为其增加角色 / add a user, or add roles to one."""
    from workflow.people.accounts import add_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    engine = _engine()
    try:
        with engine.db.write() as conn:
            add_user(conn, username, org_code, list(roles), password, display_name)
    except WorkflowError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        fail(f"{exc.message} {details}".strip())
    click.echo(f"已保存用户 / saved user {username}: {org_code} {', '.join(roles)}")


@user_group.command("token")
@click.argument("username")
def user_token(username: str) -> None:
    """生成新的 API 令牌（只显示一次） / print a new API token (shown once)."""
    from workflow.people.accounts import new_token

    try:
        with _engine().db.write() as conn:
            token = new_token(conn, username)
    except WorkflowError as exc:
        fail(str(exc.message))
    click.echo("请妥善保存，令牌只显示这一次 / keep it safe, it is shown only once:")
    click.echo(token)


@user_group.command("revoke")
@click.argument("username")
def user_revoke(username: str) -> None:
    """吊销该用户全部 API 令牌并结束其会话 / revoke a user's tokens and end their sessions."""
    from workflow.people.accounts import revoke_tokens

    try:
        with _engine().db.write() as conn:
            count = revoke_tokens(conn, username)
    except WorkflowError as exc:
        fail(str(exc.message))
    click.echo(f"已吊销 {count} 个令牌 / revoked {count} tokens")


@user_group.command("disable")
@click.argument("username")
def user_disable(username: str) -> None:
    """停用用户，立即结束其全部会话与令牌 / disable a user, ending every session and token."""
    from workflow.people.accounts import disable

    try:
        with _engine().db.write() as conn:
            disable(conn, username)
    except WorkflowError as exc:
        fail(str(exc.message))
    click.echo(f"已停用 / disabled {username}")


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def user_list(as_json: bool) -> None:
    """列出用户及其角色 / list users and their roles."""
    from workflow.people.accounts import list_users

    with _engine().db.read() as conn:
        rows = list_users(conn)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        roles = ", ".join(f"{g['org']}:{g['role']}" for g in r["roles"])
        click.echo(f"{r['username']}\t{r['display_name']}\t{roles}")


@main.group()
def audit() -> None:
    """审计 / audit."""


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """立即写入检查点（每个组织一个，有密钥则签名） / write checkpoints now (one per organisation,
    signed where it has a key)."""
    from workflow.audit.chain import write_checkpoint

    rows = write_checkpoint(_engine().db)
    for row in rows:
        heads = sum(1 for h in json.loads(row["heads"]) if h[1] is not None)
        zh = f"，已用密钥 {row['key_id']} 签名" if row["signature"] else "，未签名"
        en = f", signed with {row['key_id']}" if row["signature"] else ", unsigned"
        click.echo(f"{row['org']}：检查点 {row['seq']} 已写入（{heads} 个案件）{zh} / "
                   f"{row['org']}: checkpoint {row['seq']} written ({heads} cases{en}): "
                   f"{row['hash']}")
    if not rows:
        click.echo("没有需要写入检查点的案件 / nothing to checkpoint yet")


@audit.command("keygen")
@click.option("--org", "org_codes", multiple=True,
              help="组织代码，可重复；缺省为所有尚无密钥的组织 / organisation code, repeatable; "
                   "default: every organisation without a key")
@click.option("--rotate", is_flag=True, help="更换现有密钥（旧密钥为新密钥背书） / replace the "
                                              "key in use (the old key endorses the new one)")
@click.option("--by", "by", help="记为操作人的用户名 / username recorded as the actor")
def audit_keygen(org_codes: tuple[str, ...], rotate: bool, by: str | None) -> None:
    """生成组织签名密钥并记入组织台账 / generate organisations' signing keys (Ed25519) and
    record them on their ledger streams."""
    from workflow.audit import signing
    from workflow.people.orgs import list_orgs

    engine = _engine()
    with engine.db.read() as conn:
        known = [r["code"] for r in list_orgs(conn)]
        keys = signing.keys_by_org(conn)
    if org_codes:
        unknown = [c for c in org_codes if c not in known]
        if unknown:
            fail(f"找不到组织 {', '.join(unknown)} / no organisation {', '.join(unknown)}")
        chosen = list(dict.fromkeys(org_codes))
    else:
        chosen = [c for c in known if signing.current_key(keys.get(c, {})) is None or rotate]
    actor = f"user:{by}" if by else "system"
    for code in chosen:
        try:
            key = signing.add_key(engine.db, code, actor, rotate=rotate)
        except WorkflowError as exc:
            fail(str(exc.message))
        endorsed = "（旧密钥已背书 / endorsed by the old key）" if key.endorsed else ""
        click.echo(f"{code}：已生成密钥 {key.key_id}{endorsed} / {code}: key {key.key_id} "
                   f"published on ledger seq {key.added_seq}")
        click.echo(f"  Ed25519 {key.public_key}")
    click.echo(f"私钥保存在 / private keys are in {signing.key_dir()}")


@audit.command("keys")
@click.option("--json", "as_json", is_flag=True)
def audit_keys(as_json: bool) -> None:
    """列出各组织公布的公钥 / list the public keys organisations have published."""
    from workflow.audit import signing

    with _engine().db.read() as conn:
        keys = signing.keys_by_org(conn)
    found = [k.as_json() for org in sorted(keys)
             for k in sorted(keys[org].values(), key=lambda k: k.added_seq)]
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False))
        return
    for k in found:
        state = f"retired {k['retired_at']}" if k["retired_at"] else "in use"
        click.echo(f"{k['org']}\t{k['key_id']}\t{k['public_key']}\t{k['added_at']}\t{state}")


def _report(report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for p in report.problems:
            click.echo(p.describe("zh"))
        status = "完好 / intact" if report.ok else f"发现 {len(report.problems)} 处问题 / problems"
        extra = (f", {report.ledger_events} ledger events, {report.signed} signed"
                 if report.ledger_events or report.signed else "")
        click.echo(f"{status}: {report.cases} cases, {report.events} events, "
                   f"{report.checkpoints} checkpoints{extra}")
    sys.exit(0 if report.ok else 1)


@audit.command("verify")
@click.option("--bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="校验导出的审计包，无需数据库 / verify an exported bundle, no database")
@click.option("--org", "org_code", help="只校验该组织及其下级 / only this organisation's subtree")
@click.option("--json", "as_json", is_flag=True)
@click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="并行进程数，0 为按 CPU 核数 / processes to verify with, 0 = one per core")
def audit_verify(bundle: Path | None, org_code: str | None, as_json: bool, jobs: int) -> None:
    """校验哈希链、检查点、签名和重放结果 / check chains, checkpoints, signatures and replay."""
    if bundle:
        from workflow.audit.bundle import verify_bundle
        from workflow.core.registry import Registry

        try:
            report = verify_bundle(bundle, Registry.from_entry_points())
        except ValueError as exc:
            fail(str(exc))
    else:
        from workflow.audit.chain import verify

        engine = _engine()
        scope = None
        if org_code:
            scope = _subtree(engine, org_code)
        report = verify(engine.db, engine.registry, scope=scope, files=engine.files,
                        jobs=jobs or os.cpu_count() or 1)
        if not report.ok:
            from workflow.core import signals

            codes = sorted({p.code for p in report.problems})
            signals.audit_failed.send(engine, what="verify", detail=(
                f"{len(report.problems)} problems: {', '.join(codes)}"[:400]))
    _report(report, as_json)


def _subtree(engine, org_code: str) -> list[str]:
    import sqlalchemy as sa

    from workflow.people.orgs import org_by_code, orgs

    with engine.db.read() as conn:
        try:
            root = org_by_code(conn, org_code)
        except WorkflowError as exc:
            fail(str(exc.message))
        return list(conn.execute(sa.select(orgs.c.code).where(orgs.c.path.startswith(root.path)))
                    .scalars())


@audit.command("replay")
@click.argument("case_id", type=int)
@click.option("--as-of", "as_of", help="重建到该时刻为止（ISO 时间） / as it stood at this time")
def audit_replay(case_id: int, as_of: str | None) -> None:
    """仅凭事件重建案件 / rebuild a case from its events alone."""
    from workflow.audit.chain import ReplayError, case_events_until, check_chain, replay
    from workflow.base.timeutil import iso_utc

    try:
        until = iso_utc(parse_iso(as_of)) if as_of else None
    except ValueError:
        fail(f"时间格式无效：{as_of} / invalid date-time: {as_of}")
    engine = _engine()
    rows = case_events_until(engine.db, case_id, until)
    if not rows:
        fail(f"案件 {case_id} 没有事件 / case {case_id} has no events", 1)
    problems = check_chain(case_id, rows)
    for p in problems:
        click.echo(p.describe("zh"))
    try:
        rebuilt = replay(rows, engine.registry)
    except ReplayError as exc:
        fail(f"案件 {case_id} 第 {exc.seq} 号事件重放失败 / case {case_id} seq {exc.seq}: "
              f"{exc.reason}", 1)
    click.echo(json.dumps({"case_id": rebuilt.case_id, "code": rebuilt.code,
                           "kind": rebuilt.kind, "state": rebuilt.state,
                           "version": rebuilt.version, "seq": rebuilt.seq,
                           "data": rebuilt.data}, ensure_ascii=False, indent=2))
    sys.exit(1 if problems else 0)


@audit.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--org", "org_code", help="只导出该组织及其下级 / only this organisation's subtree")
@click.option("--since", "since",
              help="只导出该日期（含）以来有变化的事项，YYYY-MM-DD 或 ISO 时间 / "
                   "only what changed since this date or time")
@click.option("--redacted", is_flag=True, help="以摘要替代内容，任何人可持有 / digests only (AU4)")
@click.option("--with-files", "with_files", is_flag=True,
              help="附带事件记录的附件文件（仅完整版） / carry the recorded files too (full form)")
def audit_export(out: Path, org_code: str | None, since: str | None, redacted: bool,
                 with_files: bool) -> None:
    """导出审计包 / export an audit bundle."""
    from workflow.audit.bundle import export

    if redacted and with_files:
        fail("--redacted 与 --with-files 不能同时使用：文件属于内容 / --redacted and "
              "--with-files exclude each other: files are payload")
    try:
        since_at = parse_iso(since) if since else None
    except ValueError:
        fail(f"日期格式无效：{since} / invalid date: {since}")
    engine = _engine()
    try:
        counts = export(engine.db, out, redacted, org=org_code, since=since_at,
                        files=engine.files if with_files else None)
    except ValueError as exc:
        fail(str(exc))
    extra = "".join(f", {counts[name]} {label}" for name, label in (
        ("ledger_events", "ledger events"), ("attachments", "attachments"), ("files", "files"))
        if counts.get(name))
    click.echo(f"已导出 / exported {out}: {counts['cases']} cases, {counts['events']} events, "
               f"{counts['checkpoints']} checkpoints{extra}")
    if counts.get("files_missing"):
        click.echo(f"注意：存储中缺少 {counts['files_missing']} 个事件记录的文件，校验时将列出 / "
                   f"note: {counts['files_missing']} recorded files are missing from the "
                   f"store; verifying the bundle names them", err=True)


def _plug_in_commands() -> None:
    """Commands that process packages offer (``gongkai.commands`` entry points, e.g. the
    observer-seat draw's ``gongkai lottery``), so the engine names none of them."""
    for entry in entry_points(group="gongkai.commands"):
        main.add_command(entry.load(), entry.name)


_plug_in_commands()
