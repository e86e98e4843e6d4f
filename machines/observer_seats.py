"""党员旁听 — observer seats at committee meetings (O1–O7, G1, G2, G8, G9, G12).

The office proposes the meeting, the topics open to observers, the seats by category and
the conditions; the secretary approves (O1). The notice goes on the board at least 10 days
*(default)* before the meeting, the day of the notice not counted (O2). Members register
with the form, the ID number and the branch's letter (O3, O4); each registration gets a
receipt number and an access code; the ID number is sealed by the door (never in clear in
an event) and the same number twice for one meeting is refused. The office verifies each
registrant with a reason (O5). Then the draw (O6, O7, ``machines/lottery.py``): the office
publishes the committed record — the verified pool by registration number, the quotas, the
algorithm and the named source of randomness (a public value announced in advance, or
witnesses' secrets committed before) — and only then is the value entered or the secrets
revealed and the draw run. A draw is never redone silently: cancelling it needs the
secretary and a reason, stays visible, and a new draw needs a new source. After the meeting:
attendance (the waiting list fills a seat given up), observers' opinions answered (G8), and
the case archives (G9). The meeting is a durable timer from the notice on (O2): a meeting
whose time comes before a draw is held without observers, recorded as such, and archives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from machines import demo, lottery
from machines import statistics as stats
from machines.common import (
    EMAIL,
    NOTE,
    OFFICERS,
    REASON,
    RECORD_LABELS,
    RELEASE,
    all_opinions_answered,
    record_return,
    still_unanswered,
)
from workflow.core.declare import (
    AtField,
    Ctx,
    Field,
    Figure,
    Mark,
    Process,
    Schema,
    State,
    Statistics,
    Timer,
    Trigger,
)
from workflow.core.declare import Text as T

MB = 1024 * 1024
SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # China has one offset and no summer time

SETTINGS = {
    "notice_days": 10,                  # O2: the notice at least 10 days before the meeting
    "public_registration": False,       # O3: registration without an account where allowed
    "unfilled_seats": lottery.TO_WAITING_LIST,  # O7 (default): unfilled seats to the list
    "min_witnesses": 2,                 # O7: "several witnesses" when no public value exists
}

SOURCE_KINDS = {
    "public": T("事先公布的公开随机值（如指定日期的彩票开奖号码）",
                "A public value announced in advance (e.g. a named lottery's result)"),
    "witnesses": T("多名见证人事先承诺的秘密", "Secrets committed by several witnesses"),
}

# -- states ------------------------------------------------------------------------------------

STATES = (
    State("proposed", T("议题与条件待书记审批", "Topics and conditions: for approval"),
          role="secretary", rules=("O1",)),
    State("drafting", T("退回修改", "Sent back"), role="office", rules=("O1",)),
    State("approved", T("已批准，待发布通知", "Approved: notice to publish"), role="office",
          rules=("O1", "O2")),
    State("registration", T("报名中", "Registration open"), role="office",
          rules=("O2", "O3", "O4", "O5")),
    State("verification", T("报名截止，核验中", "Registration closed: verifying"),
          role="office", rules=("O5", "O7")),
    State("committed", T("已公布抽签记录，待随机值", "Draw record published: awaiting the value"),
          role="office", rules=("O7",)),
    State("drawn", T("已抽签，结果已公布", "Drawn: result published"), role="office",
          rules=("O6", "O7")),
    State("attendance", T("会议已召开：出席与意见", "Meeting held: attendance and opinions"),
          role="office", rules=("G8",)),
    State("held_without_draw", T("会议已召开，未经抽签，无人旁听",
                                 "Meeting held before any draw: no observers"),
          role="office", rules=("O2", "O6", "G9")),
    State("archived", T("已归档", "Archived"), final=True, rules=("G9",)),
)

REGISTERING = ("registration",)
VERIFYING = ("registration", "verification")
BEFORE_POOL = ("approved", "registration", "verification")
SEATED = ("drawn", "attendance")
#: O2: the meeting's timer runs from the notice on, whatever became of the draw
BEFORE_MEETING = ("registration", "verification", "committed", "drawn")

# -- O1: the proposal --------------------------------------------------------------------------

_QUOTA = re.compile(r"^\s*(.+?)\s*[:：]\s*(\d+)\s*$")


def parse_quotas(entries: list[str]) -> list[dict[str, Any]]:
    """O6: ``["机关:2", "农村：1"]`` → ``[{"category": "机关", "seats": 2}, …]`` in order."""
    found = []
    for entry in entries:
        match = _QUOTA.match(entry)
        if not match:
            raise ValueError(entry)
        found.append({"category": match.group(1), "seats": int(match.group(2))})
    return found


def meeting_day(data: Mapping[str, Any]) -> dt.date:
    """The meeting's day in China (``meeting_at`` is stored in UTC)."""
    return dt.datetime.fromisoformat(data["meeting_at"].replace("Z", "+00:00")).astimezone(
        SHANGHAI).date()


def proposal_is_coherent(payload: Mapping[str, Any]) -> dict[str, T]:
    """O1, O6: quotas written ``类别:名额``, each category once, at least one seat; the
    registration closes before the meeting day."""
    errors: dict[str, T] = {}
    try:
        quotas = parse_quotas(payload["categories"])
    except ValueError as exc:
        return {"categories": T(f"应写作“类别:名额”，如“机关:2”；这一项不对：{exc}",
                                f"Write “category:seats”, e.g. “机关:2”; wrong: {exc}")}
    names = [q["category"] for q in quotas]
    if len(set(names)) != len(names):
        errors["categories"] = T("每个类别只能写一次", "Each category only once")
    elif sum(q["seats"] for q in quotas) < 1:
        errors["categories"] = T("至少要有一个旁听席位", "At least one seat")
    if dt.date.fromisoformat(payload["registration_until"]) >= meeting_day(payload):
        errors["registration_until"] = T("报名截止日应早于会议日期",
                                         "Registration must close before the meeting day")
    return errors


PROPOSAL = Schema((
    Field("title", "str", T("会议名称", "Meeting"), max_length=200),
    Field("meeting_at", "datetime", T("会议时间", "Meeting time")),
    Field("place", "str", T("会议地点", "Place"), max_length=200),
    Field("topics", "text", T("开放旁听的议题", "Topics open to observers"), max_length=4000),
    Field("categories", "list", T("类别与名额（每行“类别:名额”）", "Categories and seats"),
          help=T("按层面、领域分类，如：机关:2、企业:1、农村:2、社区:1",
                 "By level or field, e.g. 机关:2, 企业:1, 农村:2, 社区:1")),
    Field("conditions", "text", T("旁听条件", "Conditions for observers"), max_length=4000),
    Field("registration_until", "date", T("报名截止日期（含当日）",
                                          "Last day of registration")),
    Field("how_to_register", "text", T("报名方式", "How to register"), required=False,
          max_length=2000),
), checks=(proposal_is_coherent,))


def record_proposal(ctx: Ctx) -> dict:
    """O1: the office's proposal, its quotas parsed, the seats counted; when registration
    closes (the end of its last day in China)."""
    quotas = parse_quotas(ctx.payload["categories"])
    last = dt.date.fromisoformat(ctx.payload["registration_until"])
    closes = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI)
    fields = {k: ctx.payload[k] for k in PROPOSAL_KEYS if k in ctx.payload}
    return fields | {"quotas": quotas, "seats": sum(q["seats"] for q in quotas),
                     "registration_closes_at": closes.astimezone(dt.UTC).isoformat(),
                     "drafted_by": ctx.actor}


PROPOSAL_KEYS = tuple(f.name for f in PROPOSAL.fields)


def start_case(ctx: Ctx) -> dict:
    return record_proposal(ctx) | {"registrations": [], "witnesses": [], "opinions": [],
                                   "cancelled_draws": [], "sources_used": []}


def record_approval(ctx: Ctx) -> dict:
    """O1: the main responsible person (the secretary) approved the topics and conditions."""
    return {"approved": {"by": ctx.actor, "on": ctx.today.isoformat(),
                         "note": ctx.payload.get("note", "")}}


# -- O2: the notice ----------------------------------------------------------------------------


def last_notice_day(data: Mapping[str, Any], settings: Mapping[str, Any]) -> dt.date:
    """O2: the notice day not counted (Civil Code art. 201), the meeting may be on the
    10th day after it at the earliest: so the notice is due by the meeting day minus 10."""
    return meeting_day(data) - dt.timedelta(days=settings["notice_days"])


def notice_in_time(ctx: Ctx) -> T | None:
    """O2: refuse a notice with fewer than 10 days *(default)* left before the meeting."""
    last = last_notice_day(ctx.data, ctx.settings)
    if ctx.today > last:
        n = ctx.settings["notice_days"]
        return T(f"通知须至少在会前 {n} 天发布（发布当日不计入）：会议在 "
                 f"{meeting_day(ctx.data).isoformat()}，通知最迟应于 {last.isoformat()} 发布，"
                 "已来不及；请改期后重新提交",
                 f"The notice must be published at least {n} days before the meeting (the "
                 f"day of the notice not counted): the last day for it was "
                 f"{last.isoformat()}; move the meeting and propose it again")
    if ctx.today.isoformat() > ctx.data["registration_until"]:
        return T("报名截止日已过，请修改后重新提交", "The last day of registration has passed")
    return None


def notice_text(data: Mapping[str, Any]) -> str:
    """O2: what the notice states: time, place, topics, seats per category, conditions, how
    and until when to register."""
    at = dt.datetime.fromisoformat(data["meeting_at"].replace("Z", "+00:00")).astimezone(
        SHANGHAI)
    seats = "、".join(f"{q['category']} {q['seats']} 名" for q in data["quotas"])
    how = data.get("how_to_register") or "在公开栏本通知页面在线报名，上传所在党支部介绍信"
    return "\n".join([
        f"会议时间：{at:%Y-%m-%d %H:%M}", f"会议地点：{data['place']}",
        f"开放旁听的议题：{data['topics']}", f"旁听名额：共 {data['seats']} 名（{seats}）",
        f"旁听条件：{data['conditions']}",
        f"报名方式：{how}",
        f"报名截止：{data['registration_until']}（含当日）"])


def _release(ctx: Ctx, channels: list[str] | None = None) -> dict:
    return {"on": ctx.today.isoformat(), "at": ctx.now.isoformat(),
            "channels": channels if channels is not None else ctx.payload["channels"]}


def record_notice(ctx: Ctx) -> dict:
    """O2, G1, G12: the notice released within the Party first (先党内): a board publication
    (``Process.board``) of public scope whose public release follows; members register from
    now on. ``on`` is the notice's day, the one O2 counts from."""
    return {"notice": {"title": f"{ctx.data['title']}（党员旁听通知）",
                       "content": notice_text(ctx.data), "category": "decisions",
                       "scope": "public", "time_class": "", "period": "",
                       "on": ctx.today.isoformat(), "published_internal": _release(ctx)}}


def first_within_the_party(record: Mapping[str, Any] | None) -> T | None:
    """G1: 先党内、后党外 — a public release follows the internal one, once."""
    if not (record or {}).get("published_internal"):
        return T("须先在党内公开，才能向党外公开",
                 "Publish internally before publishing publicly")
    if record.get("published_public"):
        return T("已向党外公开", "Already published to the public")
    return None


def notice_released_internally(ctx: Ctx) -> T | None:
    """G1: the notice goes to the public after its internal release."""
    return first_within_the_party(ctx.data.get("notice"))


def record_notice_public(ctx: Ctx) -> dict:
    """G1, G12, O3: the notice released to the public (党外), on the channels named now;
    from now on registration without an account is possible where allowed."""
    return {"notice": ctx.data["notice"] | {"published_public": _release(ctx)}}


# -- O3, O4: registration ----------------------------------------------------------------------

#: the branch's letter (O4): personal data, served only to the office; every officer's
#: download of it is an event
LETTER = Field("letter", "file", T("党支部介绍信", "The branch's letter"), max=1,
               media_types=("pdf", "jpeg", "png"), max_bytes=5 * MB, personal=True,
               help=T("PDF、JPEG 或 PNG，不超过 5 MB", "PDF, JPEG or PNG, at most 5 MB"))


def mobile_member_gives_card(payload: Mapping[str, Any]) -> dict[str, T]:
    """O3: a mobile member gives the activity card's number and the place of work or
    residence where they apply."""
    if not payload.get("mobile"):
        return {}
    need = T("流动党员须填写此项", "A mobile member must give this")
    return {name: need for name in ("card_number", "place") if not payload.get(name)}


REGISTRATION = Schema((
    Field("name", "str", T("姓名", "Name"), max_length=50),
    Field("id_number", "id_number", T("身份证号码", "ID number"),
          help=T("加密保存，仅以遮掩形式向办公室显示",
                 "Stored encrypted; the office sees it masked")),
    Field("branch", "str", T("所在党支部", "Branch"), max_length=200),
    Field("category", "str", T("报名类别", "Category"), max_length=50),
    Field("contact", "phone", T("联系电话", "Phone")),
    replace(EMAIL, help=T("选填：填写后，核验结果和抽签结果会发到这个邮箱",
                          "Optional: the verification and draw results are sent here")),
    Field("specialties", "text", T("专业特长", "Specialties"), required=False,
          max_length=1000),
    Field("contribution", "text", T("对议题能有何贡献", "How you can contribute on the topics"),
          max_length=2000),
    Field("mobile", "bool", T("我是流动党员", "I am a mobile member (流动党员)")),
    Field("card_number", "str", T("流动党员活动证编号", "Activity card number"), required=False,
          max_length=50),
    Field("place", "str", T("工作地或居住地", "Place of work or residence"), required=False,
          max_length=200),
    LETTER,
), checks=(mobile_member_gives_card,))


def registration_without_account_allowed(ctx: Ctx) -> T | None:
    """O3: without an account only where the organisation allows it, or as a mobile member
    (流动党员) with the activity card, who applies where they work or live."""
    if not ctx.actor.startswith("public") or ctx.settings["public_registration"]:
        return None
    if ctx.payload.get("mobile"):
        return None
    return T("本组织不接受未登录报名：请以党员身份登录后报名（流动党员请勾选并填写活动证）",
             "This organisation takes registrations from logged-in members only (mobile "
             "members: tick the box and give the activity card)")


def notice_reaches_the_public(ctx: Ctx) -> T | None:
    """G1, O3: someone without an account registers only once the notice is released to
    the public; before that it is a Party-internal notice, for members signed in."""
    if ctx.actor.startswith("public") and not ctx.data["notice"].get("published_public"):
        return T("旁听通知尚未向党外公开：请以党员身份登录后报名",
                 "The notice is not yet public: sign in as a member to register")
    return None


def category_offered(ctx: Ctx) -> T | None:
    """O6: the category is one of the meeting's."""
    offered = [q["category"] for q in ctx.data["quotas"]]
    if ctx.payload["category"] not in offered:
        return T(f"类别应为：{'、'.join(offered)}", f"Category must be one of: "
                 f"{', '.join(offered)}")
    return None


def not_registered_twice(ctx: Ctx) -> T | None:
    """O4: the same ID number registers once for a meeting (its keyed hash compared)."""
    digest = ctx.payload["id_number"]["digest"]
    if any(r["id_number"]["digest"] == digest for r in ctx.data["registrations"]):
        return T("该身份证号码已报名本次会议，不能重复报名；如需查询请使用报名回执",
                 "This ID number has already registered for this meeting; use the receipt "
                 "you were given to see its status")
    return None


def record_registration(ctx: Ctx) -> dict:
    """O4: the registration, under its receipt number, waiting for verification (O5)."""
    entry = {k: ctx.payload[k] for k in (f.name for f in REGISTRATION.fields)
             if k in ctx.payload}
    entry |= {"no": ctx.payload["_receipt"], "on": ctx.today.isoformat(), "by": ctx.actor,
              "status": "registered"}
    return {"registrations": [*ctx.data["registrations"], entry]}


# -- O5: verification --------------------------------------------------------------------------

def refusal_has_a_reason(payload: Mapping[str, Any]) -> dict[str, T]:
    """O5: not verified needs the reason the registrant will read."""
    if payload["verified"] or payload.get("reason"):
        return {}
    return {"reason": T("未通过核验须说明理由", "Say why it is not verified")}


VERIFY = Schema((
    Field("receipt", "str", T("报名号", "Registration number"), max_length=32),
    Field("verified", "bool", T("核验通过", "Verified")),
    Field("reason", "text", T("理由（未通过时必填，报名人可见）",
                              "Reason (needed when not verified; the registrant sees it)"),
          required=False, max_length=1000),
), checks=(refusal_has_a_reason,))


def registration_named(ctx: Ctx) -> T | None:
    if not any(r["no"] == ctx.payload.get("receipt") for r in ctx.data["registrations"]):
        return T("没有这个报名号", "No such registration")
    return None


def record_verification(ctx: Ctx) -> dict:
    """O5: verified or not, with the reason the registrant sees with the access code."""
    status = "verified" if ctx.payload["verified"] else "not_verified"
    registrations = [r | {"status": status, "reason": ctx.payload.get("reason", ""),
                          "verified_by": ctx.actor, "verified_on": ctx.today.isoformat()}
                     if r["no"] == ctx.payload["receipt"] else r
                     for r in ctx.data["registrations"]]
    return {"registrations": registrations}


def close_registration(ctx: Ctx) -> dict:
    return {"registration_closed": {"at": ctx.now.isoformat()}}


# -- O7: the committed record ------------------------------------------------------------------

def is_a_sha256(payload: Mapping[str, Any]) -> dict[str, T]:
    if re.fullmatch(r"[0-9a-fA-F]{64}", payload["sha256"]):
        return {}
    return {"sha256": T("应为 64 位十六进制数", "Must be 64 hex digits")}


WITNESS = Schema((
    Field("witness", "str", T("见证人", "Witness"), max_length=100),
    Field("sha256", "str", T("秘密的 SHA-256（64 位十六进制）", "SHA-256 of the secret (hex)"),
          max_length=64),
), checks=(is_a_sha256,))


def commitment_is_new(ctx: Ctx) -> T | None:
    """O7: a commitment used before (in a cancelled draw) is no new source."""
    sha = ctx.payload["sha256"].lower()
    if sha in ctx.data["sources_used"] or any(w["sha256"] == sha
                                              for w in ctx.data["witnesses"]):
        return T("这个承诺值已用过，请见证人另选秘密", "This commitment was used already")
    return None


def record_witness_commitment(ctx: Ctx) -> dict:
    """O7: a witness's commitment, recorded before the pool is published."""
    entry = {"witness": ctx.payload["witness"], "sha256": ctx.payload["sha256"].lower(),
             "on": ctx.today.isoformat()}
    return {"witnesses": [*ctx.data["witnesses"], entry]}


def record_needs(payload: Mapping[str, Any]) -> dict[str, T]:
    if payload["source_kind"] == "public":
        need = T("公开随机值须写明名称和公布日期", "Name the public value and its date")
        return {k: need for k in ("source_name", "source_date") if not payload.get(k)}
    return {}


PUBLISH_RECORD = Schema((
    Field("source_kind", "choice", T("随机源", "Source of randomness"), choices=SOURCE_KINDS),
    Field("source_name", "str", T("随机值名称（如：中国福利彩票 3D 第 2026280 期开奖号码）",
                                  "The public value (e.g. a named lottery draw)"),
          required=False, max_length=300),
    Field("source_date", "date", T("随机值公布日期", "Date the value is announced"),
          required=False),
), checks=(record_needs,))


def every_registration_decided(ctx: Ctx) -> T | None:
    """O5 before O7: the pool is fixed only when every registrant is verified or not."""
    pending = [r["no"] for r in ctx.data["registrations"] if r["status"] == "registered"]
    if pending:
        return T(f"还有报名未核验：{'、'.join(pending)}", f"Not yet verified: "
                 f"{', '.join(pending)}")
    if not any(r["status"] == "verified" for r in ctx.data["registrations"]):
        return T("没有核验通过的报名，无法抽签", "Nobody is verified: nothing to draw")
    return None


def source_announced_afterwards(ctx: Ctx) -> T | None:
    """O7: the value must become known only after the record is published: a public value
    on a later day, not used before; or enough witnesses' commitments, made before."""
    if ctx.payload["source_kind"] == "public":
        if ctx.payload["source_date"] <= ctx.today.isoformat():
            return T("随机值须在今天之后公布，才能保证公布名单时无人知道它",
                     "The value must be announced after today, so nobody knows it now")
        if ctx.payload["source_name"] in ctx.data["sources_used"]:
            return T("这个随机源已用于被撤销的抽签，重新抽签须事先指定新的随机源",
                     "This source served a cancelled draw: a new draw needs a new source")
        return None
    least = ctx.settings["min_witnesses"]
    if len(ctx.data["witnesses"]) < least:
        return T(f"至少需要 {least} 名见证人事先承诺秘密",
                 f"At least {least} witnesses must commit their secrets first")
    return None


def the_record(ctx: Ctx) -> dict[str, Any]:
    """O7: the record as committed: pseudonymised pool, quotas, algorithm, source."""
    pool = [{"id": r["no"], "category": r["category"]} for r in ctx.data["registrations"]
            if r["status"] == "verified"]
    if ctx.payload["source_kind"] == "public":
        source = {"kind": "public", "name": ctx.payload["source_name"],
                  "date": ctx.payload["source_date"]}
    else:
        source = {"kind": "witnesses", "commitments": [
            {"witness": w["witness"], "sha256": w["sha256"]} for w in ctx.data["witnesses"]]}
    return lottery.make_record(pool, ctx.data["quotas"], source,
                               ctx.settings["unfilled_seats"])


def publish_record(ctx: Ctx) -> dict:
    """O7: the committed record and its commitment; short categories are reported now,
    before the draw (O6)."""
    record = the_record(ctx)
    return {"record": record, "commitment": lottery.record_commitment(record),
            "short": lottery.short_categories(record), "revealed": [],
            "record_published": {"on": ctx.today.isoformat(), "at": ctx.now.isoformat()}}


# -- O7: the value, the draw -------------------------------------------------------------------

REVEAL = Schema((
    Field("witness", "int", T("见证人序号", "Witness number"), min=1),
    Field("secret", "str", T("秘密", "Secret"), max_length=500),
))


def secret_matches_commitment(ctx: Ctx) -> T | None:
    """O7: a revealed secret must match the SHA-256 its witness committed before."""
    witnesses = ctx.data["record"]["source"].get("commitments") or []
    n = ctx.payload["witness"]
    if ctx.data["record"]["source"]["kind"] != "witnesses" or n > len(witnesses):
        return T("没有这位见证人", "No such witness")
    if any(r["witness"] == n for r in ctx.data["revealed"]):
        return T("这位见证人已揭示秘密", "This witness has revealed already")
    if lottery.commitment(ctx.payload["secret"]) != witnesses[n - 1]["sha256"]:
        return T(f"第 {n} 位见证人揭示的秘密与其事先承诺的 SHA-256 不符，不予接受",
                 f"Witness {n}'s secret does not match the SHA-256 committed before: refused")
    return None


def record_reveal(ctx: Ctx) -> dict:
    entry = {"witness": ctx.payload["witness"], "secret": ctx.payload["secret"].strip(),
             "on": ctx.today.isoformat()}
    return {"revealed": sorted([*ctx.data["revealed"], entry], key=lambda r: r["witness"])}


DRAW = Schema((Field("value", "str", T("公布的随机值（如开奖号码，以空格分隔）",
                                       "The value as announced (numbers separated by spaces)"),
                     required=False, max_length=500),))


def sources_of(ctx: Ctx) -> list[str]:
    if ctx.data["record"]["source"]["kind"] == "public":
        return [ctx.payload.get("value", "")]
    return [r["secret"] for r in ctx.data["revealed"]]


def value_is_known(ctx: Ctx) -> T | None:
    """O7: the public value is entered on or after its announced day; with witnesses, every
    secret is revealed first."""
    source = ctx.data["record"]["source"]
    if source["kind"] == "public":
        if ctx.today.isoformat() < source["date"]:
            return T(f"随机值将于 {source['date']} 公布，届时才能抽签",
                     f"The value is announced on {source['date']}: draw then")
        if not ctx.payload.get("value"):
            return T("请填写公布的随机值", "Enter the value as announced")
    elif len(ctx.data["revealed"]) < len(source["commitments"]):
        return T("还有见证人未揭示秘密", "Not every witness has revealed the secret")
    try:
        lottery.key_string(sources_of(ctx))
    except lottery.DrawError as exc:
        return T(str(exc), str(exc))
    return None


def result_text(data: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """O7: the result notice: seats by registration number and category, the waiting list,
    the inputs (the bundle holds every intermediate value)."""
    seats = "；".join(f"{s['id']}（{s['category']}）" for s in result["seats"]) or "无"
    return "\n".join([f"旁听席位：{seats}",
                      f"候补名单（按顺序）：{'、'.join(result['waiting_list']) or '无'}",
                      f"抽签记录承诺值（SHA-256）：{data['commitment']}",
                      f"算法：{data['record']['algorithm']}"])


def run_draw(ctx: Ctx) -> dict:
    """O6, O7, G1: the draw on the committed record and the value; its result and bundle are
    released within the Party first, on the notice's channels (``result``, a board
    publication whose public release follows)."""
    bundle = lottery.draw(ctx.data["record"], sources_of(ctx))
    result = bundle["result"]
    channels = ctx.data["notice"]["published_internal"]["channels"]
    publication = {"title": f"{ctx.data['title']}（党员旁听抽签结果）",
                   "content": result_text(ctx.data, result), "category": "decisions",
                   "scope": "public", "time_class": "", "period": "",
                   "published_internal": _release(ctx, channels)}
    return {"draw": bundle, "result": publication,
            "drawn": {"on": ctx.today.isoformat(), "at": ctx.now.isoformat()},
            "seating": {"seats": [dict(s) for s in result["seats"]],
                        "waiting": list(result["waiting_list"]), "changes": []}}


def result_released_internally(ctx: Ctx) -> T | None:
    """G1: the result goes to the public after its internal release."""
    return first_within_the_party(ctx.data.get("result"))


def record_result_public(ctx: Ctx) -> dict:
    """G1, G12, O7: the result released to the public (党外), so anyone can re-check it."""
    return {"result": ctx.data["result"] | {"published_public": _release(ctx)}}


def cancel_draw(ctx: Ctx) -> dict:
    """O7: a cancelled draw stays on the record with who cancelled it and why; its source
    may not serve again."""
    source = ctx.data["record"]["source"]
    used = ([source["name"]] if source["kind"] == "public"
            else [c["sha256"] for c in source["commitments"]])
    entry = {"commitment": ctx.data["commitment"], "key": ctx.data["draw"]["key"],
             "source": source, "result": ctx.data["draw"]["result"],
             "reason": ctx.payload["reason"], "by": ctx.actor, "on": ctx.today.isoformat()}
    return {"cancelled_draws": [*ctx.data["cancelled_draws"], entry],
            "sources_used": [*ctx.data["sources_used"], *used], "witnesses": [],
            "record": None, "commitment": None, "draw": None, "seating": None, "result": None,
            "revealed": [], "short": None, "record_published": None, "drawn": None}


# -- O2: the meeting's time comes ------------------------------------------------------------


def meeting_not_drawn(ctx: Ctx) -> bool:
    """O2, O6: the meeting came before a draw (registration still open, registrations being
    verified, or the record published with no value yet): it is held without observers."""
    return ctx.state != "drawn"


def record_meeting_held(ctx: Ctx) -> dict:
    """O2, O6: the meeting took place at its time; without a draw, the stage the seats were
    at is kept (a published draw record stays, undrawn, as it was)."""
    held = {"at": ctx.now.isoformat(), "drawn": ctx.state == "drawn"}
    if ctx.state != "drawn":
        held["without_draw"] = ctx.state
    return {"meeting_held": held}


# -- after the draw: seats given up, attendance, opinions (G8), archive (G9) -------------------

SEAT = Schema((
    Field("receipt", "str", T("报名号", "Registration number"), max_length=32),
    Field("reason", "text", T("理由", "Reason"), required=False, max_length=1000),
))


def holds_a_seat(ctx: Ctx) -> T | None:
    if not any(s["id"] == ctx.payload["receipt"] for s in ctx.data["seating"]["seats"]):
        return T("该报名号没有旁听席位", "This registration holds no seat")
    return None


def waiting_list_fills_the_seat(ctx: Ctx) -> dict:
    """O7: a seat given up goes to the first on the waiting list, in draw order."""
    seating = ctx.data["seating"]
    waiting = list(seating["waiting"])
    taker = waiting.pop(0) if waiting else None
    seats = []
    for seat in seating["seats"]:
        if seat["id"] == ctx.payload["receipt"]:
            if taker is None:
                continue
            seat = seat | {"id": taker, "via": "given_up", "replaces": seat["id"]}
        seats.append(seat)
    change = {"gave_up": ctx.payload["receipt"], "taken_by": taker,
              "reason": ctx.payload.get("reason", ""), "on": ctx.today.isoformat()}
    return {"seating": {"seats": seats, "waiting": waiting,
                        "changes": [*seating["changes"], change]}}


ATTENDANCE = Schema((
    Field("receipt", "str", T("报名号", "Registration number"), max_length=32),
    Field("present", "bool", T("出席", "Present")),
))


def record_attendance(ctx: Ctx) -> dict:
    attended = dict(ctx.data.get("attendance") or {})
    attended[ctx.payload["receipt"]] = ctx.payload["present"]
    return {"attendance": attended}


OPINION = Schema((
    Field("receipt", "str", T("旁听人报名号", "Observer's registration number"), max_length=32),
    Field("text", "text", T("意见建议", "Opinion"), max_length=4000),
))


def observer_named(ctx: Ctx) -> T | None:
    if not any(s["id"] == ctx.payload["receipt"] for s in ctx.data["seating"]["seats"]):
        return T("只有旁听人可以提出旁听意见", "Only observers give observers' opinions")
    return None


def record_opinion(ctx: Ctx) -> dict:
    """G8: an observer's opinion, kept with whose it is, to be answered."""
    entry = {"no": len(ctx.data["opinions"]) + 1, "receipt": ctx.payload["receipt"],
             "text": ctx.payload["text"], "by": ctx.actor, "on": ctx.today.isoformat()}
    return {"opinions": [*ctx.data["opinions"], entry]}


ANSWER = Schema((
    Field("receipt", "str", T("旁听人报名号", "Observer's registration number"), max_length=32),
    Field("no", "int", T("意见序号", "Opinion number"), min=1),
    Field("answer", "text", T("答复", "Answer"), max_length=4000),
))


def opinion_open(ctx: Ctx) -> T | None:
    return still_unanswered([o for o in ctx.data["opinions"] if o["no"] == ctx.payload["no"]
                             and o["receipt"] == ctx.payload["receipt"]])


def record_answer(ctx: Ctx) -> dict:
    """G8: the answer goes to the observer (who sees it with the access code)."""
    return {"opinions": [o | {"answer": ctx.payload["answer"], "answered_by": ctx.actor,
                              "answered_on": ctx.today.isoformat()}
                         if o["no"] == ctx.payload["no"] else o
                         for o in ctx.data["opinions"]]}


def record_archive(ctx: Ctx) -> dict:
    """G9: 立卷归档."""
    return {"archive": {"on": ctx.today.isoformat(), "by": ctx.actor,
                        "note": ctx.payload.get("note", "")}}


# -- triggers ----------------------------------------------------------------------------------

SECRETARY = frozenset({"secretary"})

TRIGGERS = (
    Trigger("approve", ("proposed",), "approved", SECRETARY,
            T("批准议题与条件", "Approve topics and conditions"), NOTE,
            effects=(record_approval,), rules=("O1",)),
    Trigger("send_back", ("proposed",), "drafting", SECRETARY, T("退回修改", "Send back"),
            REASON, effects=(record_return,), rules=("O1",)),
    Trigger("revise", ("drafting",), "proposed", OFFICERS, T("修改后重新提交", "Revise"),
            PROPOSAL, effects=(record_proposal,), rules=("O1",)),
    Trigger("publish_notice", ("approved",), "registration", OFFICERS,
            T("在党内发布旁听通知", "Publish the notice within the Party"), RELEASE,
            available=(notice_in_time,), effects=(record_notice,),
            rules=("O2", "G1", "G2", "G12"), public=True),
    Trigger("publish_notice_public", REGISTERING, None, OFFICERS,
            T("旁听通知向党外公开", "Publish the notice to the public"), RELEASE,
            guards=(notice_released_internally,), effects=(record_notice_public,),
            append_only=True, rules=("O2", "G1", "G12"), public=True),
    Trigger("register", REGISTERING, None, {"member", "public"}, T("报名旁听", "Register"),
            REGISTRATION, guards=(registration_without_account_allowed,
                                  notice_reaches_the_public, category_offered,
                                  not_registered_twice),
            effects=(record_registration,), append_only=True, rules=("O3", "O4"),
            receipt="BM"),
    Trigger("close_registration", REGISTERING, "verification", {"system"},
            T("报名截止", "Registration closed"), effects=(close_registration,),
            rules=("O2", "O4"), public=True),
    Trigger("verify", VERIFYING, None, OFFICERS, T("核验报名", "Verify a registration"),
            VERIFY, guards=(registration_named,), effects=(record_verification,),
            append_only=True, rules=("O5",)),
    Trigger("commit_secret", BEFORE_POOL, None, OFFICERS,
            T("登记见证人的秘密承诺", "Record a witness's commitment"), WITNESS,
            guards=(commitment_is_new,), effects=(record_witness_commitment,), append_only=True,
            rules=("O7",)),
    Trigger("publish_record", ("verification",), "committed", OFFICERS,
            T("公布抽签记录（候选名单、名额、算法、随机源）",
              "Publish the draw record (pool, quotas, algorithm, source)"), PUBLISH_RECORD,
            available=(every_registration_decided,), guards=(source_announced_afterwards,),
            effects=(publish_record,), rules=("O6", "O7", "G2"), public=True),
    Trigger("reveal_secret", ("committed",), None, OFFICERS,
            T("见证人揭示秘密", "A witness reveals the secret"), REVEAL,
            guards=(secret_matches_commitment,), effects=(record_reveal,), append_only=True,
            rules=("O7",), public=True),
    Trigger("draw", ("committed",), "drawn", OFFICERS,
            T("抽签并在党内公布结果", "Draw and publish the result within the Party"),
            DRAW, guards=(value_is_known,), effects=(run_draw,), rules=("O6", "O7", "G1"),
            public=True),
    Trigger("publish_result", SEATED, None, OFFICERS,
            T("抽签结果向党外公开", "Publish the result to the public"), RELEASE,
            guards=(result_released_internally,), effects=(record_result_public,),
            append_only=True, rules=("O7", "G1", "G12"), public=True),
    Trigger("cancel_draw", ("drawn",), "verification", SECRETARY,
            T("撤销抽签（须说明理由）", "Cancel the draw (with a reason)"), REASON,
            effects=(cancel_draw,), rules=("O7",), public=True),
    Trigger("give_up_seat", SEATED, None, OFFICERS,
            T("放弃席位（由候补递补）", "Seat given up (the waiting list fills it)"), SEAT,
            guards=(holds_a_seat,), effects=(waiting_list_fills_the_seat,), append_only=True,
            rules=("O7",), public=True),
    Trigger("meeting_held", BEFORE_MEETING, "attendance", {"system"},
            T("会议已召开", "Meeting held"), effects=(record_meeting_held,),
            routes=((meeting_not_drawn, "held_without_draw"),), rules=("O2", "O6")),
    Trigger("record_attendance", ("attendance",), None, OFFICERS,
            T("登记出席", "Record attendance"), ATTENDANCE, guards=(holds_a_seat,),
            effects=(record_attendance,), append_only=True, rules=("O6",)),
    Trigger("opinion", ("attendance",), None, OFFICERS | {"member"},
            T("记录旁听意见", "Record an observer's opinion"), OPINION,
            guards=(observer_named,), effects=(record_opinion,), append_only=True,
            rules=("G8",)),
    Trigger("answer_opinion", ("attendance",), None, OFFICERS,
            T("答复旁听意见", "Answer an opinion"), ANSWER, guards=(opinion_open,),
            effects=(record_answer,), append_only=True, rules=("G8",)),
    Trigger("archive", ("attendance", "held_without_draw"), "archived", OFFICERS,
            T("立卷归档", "Archive"), NOTE,
            available=(all_opinions_answered,), effects=(record_archive,), rules=("G9",)),
)

TIMERS = (
    Timer("registration_close", REGISTERING, "close_registration",
          AtField("registration_closes_at"), T("报名截止", "Registration closes"),
          sets_due=True),
    Timer("meeting", BEFORE_MEETING, "meeting_held", AtField("meeting_at"),
          T("会议时间", "Meeting")),
)

# -- statistics (G14) -------------------------------------------------------------------------

VERDICTS = {"verified": T("核验通过", "Verified"), "not_verified": T("未通过", "Not verified")}


def marks(events: list, data, days_between) -> list[Mark]:
    """G14: a meeting's facts: proposed; the notice published (O2); registrations (O4) and
    their verification (O5); the seats offered and, at the draw that stands, filled (O6);
    held."""
    found = [Mark("meetings", stats.day(events[0]))]
    for ev in events[1:]:
        today, trigger = stats.day(ev), ev["trigger"]
        if trigger == "publish_notice":
            found += [Mark("notices", today), Mark("seats_offered", today, data.get("seats", 0))]
        elif trigger == "register":
            found.append(Mark("registrations", today))
        elif trigger == "verify":
            found.append(Mark("verifications", today, part="verified"
                              if ev["payload"].get("verified") else "not_verified"))
        elif trigger == "draw":
            found.append(Mark("draws", today))
        elif trigger == "meeting_held":
            found.append(Mark("held", today))
    drawn = data.get("drawn") or {}
    if drawn.get("on"):
        seats = len((data.get("seating") or {}).get("seats") or ())
        found.append(Mark("seats_filled", dt.date.fromisoformat(drawn["on"]), seats))
    return found


STATISTICS = Statistics(figures=(
    Figure("meetings", T("旁听会议", "Meetings proposed")),
    Figure("notices", T("发布旁听通知", "Notices published (O2)")),
    Figure("seats_offered", T("旁听名额", "Seats offered")),
    Figure("registrations", T("报名", "Registrations (O4)")),
    Figure("verifications", T("核验", "Verifications (O5)"), part_labels=VERDICTS),
    Figure("draws", T("抽签", "Draws (O6)")),
    Figure("seats_filled", T("抽中席位", "Seats filled")),
    Figure("held", T("会议召开", "Meetings held")),
), marks=marks)

OBSERVER_SEATS = Process(
    kind="observer_seats", version=1, label=T("党员旁听", "Observer seats"),
    states=STATES, initial="proposed", triggers=TRIGGERS, timers=TIMERS,
    start_roles=OFFICERS, start_schema=PROPOSAL, start_effects=(start_case,),
    settings=SETTINGS, code_prefix="PT", title_field="title", board=("notice", "result"),
    rules=("O1", "O2", "O3", "O4", "O5", "O6", "O7", "G1", "G2", "G8", "G9", "G12"),
    demo=demo.OBSERVER_SEATS, statistics=STATISTICS,
    # recorded before the registration's optional e-mail address (issue 18), which every
    # recorded event still passes: running cases keep opening
    earlier_fingerprints=("cbb776975146b0514cdfbf41250ba598f7a26daaca7d3f06ead1a0207f753a74",),
    labels=RECORD_LABELS | {
        "notice": T("旁听通知", "Notice"), "record": T("抽签记录", "Draw record"),
        "draw": T("抽签包", "Draw bundle"), "result": T("抽签结果", "Result"),
        "seating": T("席位", "Seats"),
        "cancelled_draws": T("已撤销的抽签", "Cancelled draws"),
        "meeting_held": T("会议召开", "Meeting held"),
    },
)
