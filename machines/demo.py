"""The demo's cases of every process, laid around the day the demo is loaded.

Data, not rules: ``workflow.demo`` starts each case at its organisation and walks it
through its steps; the timers that have fallen due since fire as the service would fire
them. Each process module hands its own to its ``Process(demo=...)``.
"""

from __future__ import annotations

import datetime as dt

from machines import lottery
from machines.periods import period_of, previous_period
from workflow.core.declare import DemoCase, DemoStep, Upload

XBQ = "XW-QS-XBQ"


# -- 依申请公开 ----------------------------------------------------------------------------------

#: laid around the day the demo is loaded; 钱七's request was registered 45 days ago and
#: is past its 20 working days (A9), so the inbox has an overdue example
APPLICATION = (
    DemoCase("XW-QS", lambda today: {
        "name": "张三", "phone": "13800000001",
        "description": f"{today.year} 年青山镇党费收缴和使用情况", "purpose": "了解情况",
        "delivery": "electronic"}, role="public"),
    DemoCase("XW-QS", {"name": "李四", "email": "lisi@example.cn",
                       "description": "小板桥村发展党员的程序和名单", "delivery": "paper"},
             (DemoStep("register", "office"),), role="public"),
    DemoCase("XW-QS", lambda today: {
        "name": "王五", "phone": "13800000003",
        "description": f"镇党委{previous_period(today, 'quarterly')[2]}会议纪要",
        "delivery": "onsite"},
             (DemoStep("register", "office"),
              DemoStep("request_clarification", "handler",
                       {"missing": "请说明需要哪几次会议的纪要，以及用途。"})), role="public"),
    DemoCase("XW-QS", {"name": "赵六", "phone": "13800000004",
                       "description": "镇党委关于村级后备干部培养的文件", "delivery": "electronic"},
             (DemoStep("register", "office"),
              DemoStep("draft_answer", "handler",
                       {"outcome": "partial", "content": "提供培养方案正文。",
                        "withheld": "后备干部个人考察材料",
                        "reason": "涉及个人隐私（G2），依规不予公开。"}),
              DemoStep("approve", "reviewer")), role="public"),
    DemoCase("XW-QS", {"name": "钱七", "phone": "13800000005",
                       "description": "镇党委班子成员分工调整的通知", "delivery": "electronic"},
             (DemoStep("register", "office"),), role="public", days_ago=45),
)


# -- 党内事务问询: 小板桥 and 青山镇, in several states with running timers --------------

INQUIRY = (
    DemoCase(XBQ, {"name": "小板桥村党员", "title": "村集体土地流转收益的分配",
                   "subject": "execution",
                   "question": "支部决定的土地流转收益分配方案何时落实？按什么标准分配？"},
             role="member"),
    DemoCase(XBQ, {"name": "周八", "contact": "13800000011", "title": "低保对象的评定",
                   "subject": "concern", "question": "今年新增低保对象是怎样评定的？"},
             (DemoStep("register", "office"),), role="public"),
    DemoCase(XBQ, {"name": "孙九", "title": "村党总支换届后的分工",
                   "subject": "decision", "question": "新一届支委分工为何调整？",
                   "cosigners": ["xbq-member", "刘七"]},
             (DemoStep("register", "office"),
              DemoStep("record_cosign", "office", {"signer": "刘七",
                                                    "note": "在问询单上书面签名"})),
             role="member"),
    DemoCase("XW-QS", {"name": "吴十", "title": "镇党委惠农资金兑现进度",
                       "subject": "execution",
                       "question": "镇党委部署的惠农资金为何至今未兑现到户？"},
             (DemoStep("register", "office"),
              DemoStep("draft_answer", "handler",
                       {"content": "资金已于本月拨付到村，正在逐户核对后发放。",
                        "scope": "public"})),
             role="member"),
    DemoCase(XBQ, {"name": "郑一", "title": "党员活动室的使用安排",
                   "subject": "concern", "question": "活动室平时为什么不开放？"},
             (DemoStep("answer_on_spot", "secretary", lambda today: {
                 "answerer": "小板桥村党总支书记", "occasion": "meeting",
                 "place": "村党员活动室", "answered_on": (today - dt.timedelta(days=2)).isoformat(),
                 "content": "自下月起每周二、周五下午开放，由值班党员管理。",
                 "scope": "internal"}),
              DemoStep("deliver", "office", {"signer": "郑一", "how": "on_spot"}),
              DemoStep("publish", "office", {"channels": ["board", "meeting"]})),
             role="member", days_ago=2),
)


# -- 例行公开 -------------------------------------------------------------------------------

CHECKED = {"secrecy": True, "necessity": True, "accuracy": True}

def _quarter_item(day: dt.date, topic: str, content: str, category: str,
                  channels: list[str]) -> dict:
    _, end, label = period_of(day, "quarterly")
    return {"title": f"{label}{topic}", "content": content, "category": category,
            "scope": "internal", "channels": channels, "time_class": "periodic",
            "entry": "ML-DEMO", "period": label, "period_end": end.isoformat()}


#: laid around the day the demo is loaded: last quarter's item published, this quarter's
#: in drafting, this year's plan on the public board, a notice awaiting review
ROUTINE = (
    DemoCase(XBQ, lambda today: _quarter_item(
        previous_period(today, "quarterly")[1], "党费收缴情况", "应缴 42 人，实缴 42 人。",
        "organisation", ["board", "meeting"]),
        (DemoStep("submit", "handler"), DemoStep("approve", "reviewer", CHECKED),
         DemoStep("publish_internal", "handler", {"channels": ["board", "meeting"]}))),
    DemoCase(XBQ, lambda today: _quarter_item(
        today, "主题党日安排", "每月 15 日开展主题党日活动。", "ideology", ["meeting"])),
    DemoCase(XBQ, lambda today: {
        "title": f"村党总支 {today.year} 年工作要点", "content": "一、加强思想建设……",
        "category": "decisions", "scope": "public", "channels": ["board", "website"],
        "time_class": "standing", "entry": "ML-DEMO"},
        (DemoStep("submit", "handler"), DemoStep("approve", "reviewer", CHECKED),
         DemoStep("publish_internal", "handler", {"channels": ["meeting"]}),
         DemoStep("publish_public", "handler", {"channels": ["board", "website"]}))),
    DemoCase("XW-QS", {
        "title": "发展党员公示：王某某", "content": "拟接收王某某为预备党员，公示期 5 个工作日。",
        "category": "organisation", "scope": "public", "channels": ["board"],
        "time_class": "immediate", "entry": "ML-DEMO"},
        (DemoStep("submit", "handler"),)),
)


# -- 党务公开目录 ----------------------------------------------------------------------------

CATALOGUE = (
    DemoCase("XW-QS", {
        "title": "党费收缴情况", "content": "每季度公开应缴、实缴人数和金额。",
        "category": "organisation", "scope": "internal", "channels": ["board", "meeting"],
        "time_class": "periodic", "period": "quarterly", "responsible": "村党总支书记",
        "for_org": XBQ},
        (DemoStep("submit", "handler"), DemoStep("approve", "reviewer", {"secrecy": True}))),
    DemoCase("XW-QS", {
        "title": "村级重大事项决策情况", "content": "“四议两公开”决策事项及实施结果。",
        "category": "decisions", "scope": "public", "channels": ["board", "website"],
        "time_class": "staged", "responsible": "村党总支书记", "for_org": XBQ},
        (DemoStep("submit", "handler"),)),
)


# -- 党员旁听 -------------------------------------------------------------------------------

#: a one-page PDF standing in for a branch's letter (介绍信)
LETTER_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
              b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
              b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
              b"trailer<</Root 1 0 R>>\n%%EOF\n")

#: the demo witnesses' secrets (published once revealed) and what they committed
WITNESS_SECRETS = (("镇纪委委员 周某", "qingshan-2718-maple"),
                   ("党员代表 吴某", "river-5772-lantern"))

#: demo registrants: name, ID number (valid check characters, fictitious), category
REGISTRANTS = (
    ("李明", "320102197805120312", "机关"), ("王芳", "320102198509231522", "农村"),
    ("赵强", "320113199001152069", "农村"), ("孙丽", "320106197207304133", "社区"),
    ("周杰", "320114198811023279", "农村"), ("陈静", "320102199306180117", "机关"),
)


def _meeting(today: dt.date, title: str, in_days: int, closes_in: int) -> dict:
    return {"title": title, "meeting_at": f"{today + dt.timedelta(days=in_days)}T09:00",
            "place": "青山镇政府三楼会议室",
            "topics": "一、2027 年镇级民生实事项目\n二、村级集体经济发展规划",
            "categories": ["机关:1", "农村:2", "社区:1"],
            "conditions": "组织关系在本镇的党员（含持活动证的流动党员），能正常履行党员义务，"
                          "熟悉议题相关工作",
            "registration_until": (today + dt.timedelta(days=closes_in)).isoformat(),
            "how_to_register": "在公开栏“党员旁听”页面在线报名，上传所在党支部介绍信"}


def _registration(n: int) -> DemoStep:
    name, id_number, category = REGISTRANTS[n]
    mobile = n == 4
    return DemoStep("register", "public" if mobile else "member", {
        "name": name, "id_number": id_number, "branch": "青山镇第一党支部",
        "category": category, "contact": f"1380000{n:04d}", "specialties": "基层治理",
        "contribution": "长期参与相关工作，熟悉议题",
        "letter": Upload("介绍信.pdf", LETTER_PDF),
        **({"mobile": True, "card_number": "LD-2025-0318", "place": "青山镇工业园"}
           if mobile else {})})


def _verified(n: int) -> DemoStep:
    return DemoStep("verify", "office", {"verified": True},
                    from_case=lambda data: {"receipt": data["registrations"][n]["no"]})


#: the notice within the Party first, then to the public (G1)
_NOTICE = (DemoStep("approve", "secretary"),
           DemoStep("publish_notice", "office", {"channels": ["board", "broadcast"]}),
           DemoStep("publish_notice_public", "office", {"channels": ["board", "website"]}))

#: laid around the day the demo is loaded: a meeting open for registration; one whose pool
#: is verified and committed with a public value announced today (ready to draw); one drawn
#: with witnesses' secrets, its result and bundle published (within the Party, then to all)
OBSERVER_SEATS = (
    DemoCase("XW-QS", lambda today: _meeting(today, "镇党委第 13 次全体会议", 20, 10),
             (*_NOTICE, _registration(0), _registration(4)), role="office", days_ago=1),
    DemoCase("XW-QS", lambda today: _meeting(today, "镇党委第 12 次全体会议", 6, -3),
             (*_NOTICE, *(_registration(n) for n in range(4)),
              *(_verified(n) for n in range(4)),
              DemoStep("publish_record", "office", lambda today: {
                  "source_kind": "public", "source_name": "中国福利彩票 3D 开奖号码",
                  "source_date": today.isoformat()}, after_days=14)),
             role="office", days_ago=16),
    DemoCase("XW-QS", lambda today: _meeting(today, "镇党委第 11 次全体会议", 3, -8),
             (*_NOTICE, *(_registration(n) for n in range(6)),
              *(_verified(n) for n in range(6)),
              *(DemoStep("commit_secret", "office",
                         {"witness": name, "sha256": lottery.commitment(secret)})
                for name, secret in WITNESS_SECRETS),
              DemoStep("publish_record", "office", {"source_kind": "witnesses"},
                       after_days=14),
              *(DemoStep("reveal_secret", "office", {"witness": n, "secret": secret})
                for n, (_name, secret) in enumerate(WITNESS_SECRETS, start=1)),
              DemoStep("draw", "office"),
              DemoStep("publish_result", "office", {"channels": ["board", "website"]})),
             role="office", days_ago=20),
)


# -- 四议两公开 -------------------------------------------------------------------------------

def _held(today: dt.date, days: int = 0) -> str:
    return (today - dt.timedelta(days=days)).isoformat()


def _two_committees(draft: str, ago: int = 0):
    return DemoStep("two_committees", "office", lambda today: {
        "date": _held(today, ago), "attendees": "村党总支委员、村委会委员共 9 人", "draft": draft})


def _party_meeting(present: int, in_favour: int, ago: int = 0):
    return DemoStep("party_meeting", "office", lambda today: {
        "date": _held(today, ago), "members_with_vote": 42, "present": present,
        "in_favour": in_favour, "against": 0, "abstaining": 0})


def _villagers(ago: int = 0):
    return DemoStep("villagers_meeting", "office", lambda today: {
        "date": _held(today, ago), "form": "representatives", "representatives": 35,
        "present": 30,        "in_favour": 27, "against": 2, "abstaining": 1})

#: a minor decision published in full; a major one awaiting the town's review; one whose
#: Party member meeting missed its quorum (the record kept, the case waiting to reconvene);
#: one whose implementation result is overdue (the vote 120 days ago, past V2's 60 working days)
VILLAGE_DECISION = (
    DemoCase(XBQ, {"title": "村文化礼堂开放时间调整",
                   "content": "文化礼堂改为每天 8:00–21:00 开放。"},
             (DemoStep("propose", "secretary"),
              _two_committees("文化礼堂每天 8:00–21:00 开放，由村民轮流值班。", 20),
              _party_meeting(30, 28, 20), _villagers(20),
              DemoStep("publish_resolution", "office", {"channels": ["board", "broadcast"]}),
              DemoStep("record_implementation", "office",
                       {"stage": "complete", "text": "已按新时间开放，值班表已张贴。"}),
              DemoStep("publish_result", "office",
                       {"channels": ["board"], "content": "文化礼堂已按新时间开放一个月。"})),
             role="secretary", days_ago=20),
    DemoCase(XBQ, {"title": "村集体经营性用房出租",
                   "content": "将村集体两间经营性用房公开招租，期限五年。", "major": True,
                   "amount": 120000},
             (DemoStep("propose", "secretary"),), role="secretary"),
    DemoCase(XBQ, {"title": "村道路灯维修", "content": "维修村主干道路灯 24 盏。", "amount": 18000},
             (DemoStep("propose", "secretary"), _two_committees("更换村主干道路灯 24 盏。", 3),
              _party_meeting(19, 19, 3)), role="secretary", days_ago=3),
    DemoCase(XBQ, {"title": "村垃圾分类亭建设", "content": "新建垃圾分类亭 6 座。",
                   "amount": 60000},
             (DemoStep("propose", "secretary"),
              _two_committees("新建垃圾分类亭 6 座，公开比选施工单位。", 120),
              _party_meeting(36, 33, 120), _villagers(120),
              DemoStep("publish_resolution", "office", {
                  "channels": ["board"], "finance": "预算 60000 元，来源：村集体经营收入。"})),
             role="secretary", days_ago=120),
)


# -- 预公开 -----------------------------------------------------------------------------------

#: a town's draft decision, 党外, on the board and online
def _draft(title: str, text: str) -> dict:
    return {"title": title, "draft_text": text, "scope": "public", "forms": ["board", "online"]}


def _until(days_ago: int):
    """P3: the shortest period allowed for a case opened ``days_ago`` days before the demo."""
    return lambda today: {"comment_until": (today + dt.timedelta(days=15 - days_ago))
                          .isoformat(), "note": "欢迎提出意见建议"}


PLANNED = (DemoStep("submit", "handler"), DemoStep("approve", "reviewer", CHECKED),
           DemoStep("approve_plan", "leading_group", {"note": "同意预公开"}))


def _said(stance: str, text: str, role: str = "public") -> DemoStep:
    trigger = "supervisor_comment" if role == "supervisor" else "comment"
    return DemoStep(trigger, role, {"stance": stance, "text": text})


#: one approved and ready to open, one open with comments of every stance (a supervisor's
#: among them), one deferred at its close because most commenters objected (P5)
PRE_DISCLOSURE = (
    DemoCase("XW-QS", _draft("青山镇农村人居环境整治三年行动方案（征求意见稿）",
                             "一、目标任务：三年内实现垃圾分类全覆盖……"), PLANNED),
    DemoCase("XW-QS", _draft("青山镇村级集体经济收益分配办法（征求意见稿）",
                             "第一条 村集体经济收益按照……的原则分配。"),
             (*PLANNED, DemoStep("open_comments", "handler", _until(3)),
              _said("support", "办法合理，赞成实施。"),
              _said("object", "分红比例偏低，不同意。"),
              _said("suggest", "建议增加困难群众的帮扶比例。"),
              _said("suggest", "建议公开每年的收益台账。", "supervisor")), days_ago=3),
    DemoCase("XW-QS", _draft("青山镇集贸市场搬迁方案（征求意见稿）",
                             "拟将集贸市场整体搬迁至镇东新区。"),
             (*PLANNED, DemoStep("open_comments", "handler", _until(20)),
              _said("object", "新址太远，老人买菜不便。"),
              _said("object", "搬迁后摊位费上涨，不同意。"),
              _said("object", "现市场刚改造过，不必搬迁。"),
              _said("support", "新址交通方便，支持。")), days_ago=20),
)


# -- 年度报告: 青山镇's report of last year published, this year's being written ------------

ANNUAL_REPORT = (
    DemoCase("XW-QS", lambda today: {
        "year": today.year - 1,
        "problems": "个别村公开栏更新不及时；依申请公开答复期限把握不够严格。",
        "improvements": "建立公开事项到期提醒；每季度检查各村公开栏。"},
             (DemoStep("publish", "office"),), role="office"),
    DemoCase("XW-QS", lambda today: {"year": today.year,
                                     "problems": "（编写中）党员旁听报名人数偏少。"},
             role="office"),
)
