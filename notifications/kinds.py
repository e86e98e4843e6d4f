"""Every kind of message: its subject and body templates and whether it is urgent.

The templates are zh-CN msgids of the i18n catalogue (:mod:`notifications.catalogue`),
their English in ``web/translations/en/LC_MESSAGES/messages.po``. Urgent messages are
never held by quiet hours or folded into a digest (an overdue tier, a failed audit).
Named ``%(placeholders)s`` are filled from the message's ``params``, which never hold an
ID number or a phone; the catalogue test checks each translation keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifications.catalogue import N_, translate
from workflow.base.text import Text as T


@dataclass(frozen=True)
class Kind:
    name: str
    label: T
    subject: str  # msgids
    body: str
    urgent: bool = False
    #: whom it is for: officers choose channels; applicants are reached by e-mail only
    officers: bool = True


KINDS = {k.name: k for k in (
    Kind("queue", T("新待办", "New work"),
         N_("新待办：%(title)s"),
         N_("事项“%(title)s”（%(process)s）已到“%(state)s”，等待您处理。")),
    Kind("assigned", T("分派给我", "Assigned to me"),
         N_("分派给您：%(title)s"),
         N_("%(by)s把事项“%(title)s”（%(process)s）分派给您承办。")),
    Kind("reminder", T("到期提醒", "Due-date reminder"),
         N_("到期提醒：%(title)s，%(due)s到期"),
         N_("事项“%(title)s”（%(process)s）将于%(due)s到期，请及时办理。")),
    Kind("overdue", T("逾期", "Overdue"),
         N_("已逾期：%(title)s"),
         N_("事项“%(title)s”（%(process)s）已超过期限（A9），请承办人和负责人督办。"),
         urgent=True),
    Kind("long_overdue", T("严重逾期", "Long overdue"),
         N_("严重逾期：%(title)s"),
         N_("事项“%(title)s”（%(process)s，%(org)s）已严重逾期（A9），报上级督办。"),
         urgent=True),
    Kind("comment_new", T("新意见", "New comment"),
         N_("新意见：%(title)s"),
         N_("预公开事项“%(title)s”收到意见 %(receipt)s，请处理。")),
    Kind("applicant_ack", T("申请已收到", "Request received"),
         N_("已收到您的申请（%(code)s）"),
         N_("您的申请“%(title)s”已收到，编号 %(code)s。可凭编号和查询码查看办理进度：%(link)s"),
         officers=False),
    Kind("clarify_request", T("补正通知", "Request to complete"),
         N_("请补正您的申请（%(code)s）"),
         N_("您的申请 %(code)s 需要补正，请在期限内通过查询页面提交：%(link)s"),
         officers=False),
    Kind("answered", T("答复", "Answer"),
         N_("您的申请已答复（%(code)s）"),
         N_("您的申请 %(code)s 已答复。答复和告知书见查询页面：%(link)s"),
         officers=False),
    Kind("comment_receipt", T("意见回执", "Comment receipt"),
         N_("意见已收到（%(receipt)s）"),
         N_("您对“%(title)s”的意见已收到，回执编号 %(receipt)s。处理结果将在此告知。"),
         officers=False),
    Kind("comment_disposed", T("意见处理结果", "Comment answered"),
         N_("意见处理结果（%(receipt)s）"),
         N_("您对“%(title)s”的意见 %(receipt)s 已处理：%(outcome)s。详见：%(link)s"),
         officers=False),
    Kind("observer_verified", T("旁听报名核验", "Registration checked"),
         N_("旁听报名核验结果（%(receipt)s）"),
         N_("您报名旁听“%(title)s”（%(receipt)s）的核验结果：%(result)s。凭报名号和查询码查看：%(link)s"),
         officers=False),
    Kind("observer_draw", T("旁听抽签结果", "Draw result"),
         N_("旁听抽签结果（%(receipt)s）"),
         N_("“%(title)s”的旁听抽签已完成，您（%(receipt)s）的结果：%(result)s。凭报名号和查询码查看：%(link)s"),
         officers=False),
    Kind("audit_failed", T("审计校验失败", "Audit check failed"),
         N_("审计校验失败：%(what)s"),
         N_("%(what)s未通过：%(detail)s。请审计人员和管理员立即核查（AU3）。"),
         urgent=True),
    Kind("digest", T("每日汇总", "Daily digest"),
         N_("每日汇总：%(count)s 条消息"),
         N_("您有 %(count)s 条消息：\n%(lines)s")),
)}

#: the words a rule puts in ``%(result)s``, ``%(outcome)s`` or ``%(what)s``, both languages
WORDS = {
    "verified": T("核验通过", "verified"), "refused": T("未通过", "not verified"),
    "seated": T("抽中", "seated"), "waiting": T("进入候补名单", "on the waiting list"),
    "not_drawn": T("未抽中", "not drawn"),
    "verify": T("审计校验", "Audit verify"), "checkpoint": T("检查点", "Checkpoint"),
}


def render(kind: str, params: dict, lang: str) -> tuple[str, str]:
    """(subject, body) of a message in one language."""
    spec = KINDS[kind]
    values = _Blank({k: _word(v, lang) for k, v in params.items()})
    return translate(spec.subject, lang) % values, translate(spec.body, lang) % values


def _word(value: object, lang: str) -> object:
    """A bilingual value (``{"zh", "en"}``, as rules store a label) in ``lang``."""
    if isinstance(value, dict) and set(value) == {"zh", "en"}:
        return value["en"] if lang == "en" else value["zh"]
    return value


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
