"""Every kind of message: its templates in zh-CN and English and whether it is urgent.

Urgent messages are never held by quiet hours or folded into a digest (an overdue tier,
a failed audit). ``{placeholders}`` are filled from the message's ``params``, which never
hold an ID number or a phone.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.base.text import Text as T


@dataclass(frozen=True)
class Kind:
    name: str
    label: T
    subject: T
    body: T
    urgent: bool = False
    #: whom it is for: officers choose channels; applicants are reached by e-mail only
    officers: bool = True


KINDS = {k.name: k for k in (
    Kind("queue", T("新待办", "New work"),
         T("新待办：{title}", "New work: {title}"),
         T("事项“{title}”（{process}）已到“{state}”，等待您处理。",
           "“{title}” ({process}) is now “{state}” and waits for you.")),
    Kind("assigned", T("分派给我", "Assigned to me"),
         T("分派给您：{title}", "Assigned to you: {title}"),
         T("{by}把事项“{title}”（{process}）分派给您承办。",
           "{by} assigned “{title}” ({process}) to you.")),
    Kind("reminder", T("到期提醒", "Due-date reminder"),
         T("到期提醒：{title}，{due}到期", "Reminder: {title} is due on {due}"),
         T("事项“{title}”（{process}）将于{due}到期，请及时办理。",
           "“{title}” ({process}) falls due on {due}.")),
    Kind("overdue", T("逾期", "Overdue"),
         T("已逾期：{title}", "Overdue: {title}"),
         T("事项“{title}”（{process}）已超过期限（A9），请承办人和负责人督办。",
           "“{title}” ({process}) is past its due date (A9): the handler and the "
           "responsible person are told."), urgent=True),
    Kind("long_overdue", T("严重逾期", "Long overdue"),
         T("严重逾期：{title}", "Long overdue: {title}"),
         T("事项“{title}”（{process}，{org}）已严重逾期（A9），报上级督办。",
           "“{title}” ({process}, {org}) is long overdue (A9): the upper level is told."),
         urgent=True),
    Kind("comment_new", T("新意见", "New comment"),
         T("新意见：{title}", "New comment: {title}"),
         T("预公开事项“{title}”收到意见 {receipt}，请处理。",
           "“{title}” received comment {receipt}; please answer it.")),
    Kind("applicant_ack", T("申请已收到", "Request received"),
         T("已收到您的申请（{code}）", "Your request {code} has been received"),
         T("您的申请“{title}”已收到，编号 {code}。可凭编号和查询码查看办理进度：{link}",
           "Your request “{title}” has been received as {code}. Follow it with the code "
           "and your access code: {link}"), officers=False),
    Kind("clarify_request", T("补正通知", "Request to complete"),
         T("请补正您的申请（{code}）", "Please complete your request {code}"),
         T("您的申请 {code} 需要补正，请在期限内通过查询页面提交：{link}",
           "Your request {code} needs more from you; please add it on the tracking page "
           "in time: {link}"), officers=False),
    Kind("answered", T("答复", "Answer"),
         T("您的申请已答复（{code}）", "Your request {code} has been answered"),
         T("您的申请 {code} 已答复。答复和告知书见查询页面：{link}",
           "Your request {code} has been answered. The answer and the written notice are "
           "on the tracking page: {link}"), officers=False),
    Kind("comment_receipt", T("意见回执", "Comment receipt"),
         T("意见已收到（{receipt}）", "Comment received ({receipt})"),
         T("您对“{title}”的意见已收到，回执编号 {receipt}。处理结果将在此告知。",
           "Your comment on “{title}” has been received as {receipt}. You will be told "
           "what was done with it."), officers=False),
    Kind("comment_disposed", T("意见处理结果", "Comment answered"),
         T("意见处理结果（{receipt}）", "What was done with your comment ({receipt})"),
         T("您对“{title}”的意见 {receipt} 已处理：{outcome}。详见：{link}",
           "Your comment {receipt} on “{title}” was answered: {outcome}. See {link}"),
         officers=False),
    Kind("observer_verified", T("旁听报名核验", "Registration checked"),
         T("旁听报名核验结果（{receipt}）", "Your registration {receipt} was checked"),
         T("您报名旁听“{title}”（{receipt}）的核验结果：{result}。",
           "Your registration {receipt} to observe “{title}” was checked: {result}."),
         officers=False),
    Kind("observer_draw", T("旁听抽签结果", "Draw result"),
         T("旁听抽签结果（{receipt}）", "Draw result for {receipt}"),
         T("“{title}”的旁听抽签已完成，您（{receipt}）的结果：{result}。",
           "The draw for “{title}” has been held; your result ({receipt}): {result}."),
         officers=False),
    Kind("audit_failed", T("审计校验失败", "Audit check failed"),
         T("审计校验失败：{what}", "Audit check failed: {what}"),
         T("{what}未通过：{detail}。请审计人员和管理员立即核查（AU3）。",
           "{what} failed: {detail}. Auditors and administrators, please look now (AU3)."),
         urgent=True),
    Kind("digest", T("每日汇总", "Daily digest"),
         T("每日汇总：{count} 条消息", "Daily digest: {count} messages"),
         T("{lines}", "{lines_en}")),
)}

#: the words a rule puts in ``{result}``, ``{outcome}`` or ``{what}``, both languages
WORDS = {
    "verified": T("核验通过", "verified"), "refused": T("未通过", "not verified"),
    "seated": T("抽中", "seated"), "waiting": T("进入候补名单", "on the waiting list"),
    "not_drawn": T("未抽中", "not drawn"),
    "verify": T("审计校验", "Audit verify"), "checkpoint": T("检查点", "Checkpoint"),
}


def render(kind: str, params: dict, lang: str) -> tuple[str, str]:
    """(subject, body) of a message in one language."""
    spec = KINDS[kind]
    values = {k: _word(v, lang) for k, v in params.items()}
    values.setdefault("lines_en", "")
    try:
        return spec.subject.get(lang).format_map(_Blank(values)), \
            spec.body.get(lang).format_map(_Blank(values))
    except (ValueError, IndexError):  # a stray brace in a title: show it plainly
        return spec.label.get(lang), spec.body.get(lang)


def _word(value: object, lang: str) -> object:
    """A bilingual value (``{"zh", "en"}``, as rules store a label) in ``lang``."""
    if isinstance(value, dict) and set(value) == {"zh", "en"}:
        return value["en"] if lang == "en" else value["zh"]
    return value


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
