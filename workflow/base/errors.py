"""The distinct outcomes of the one door, in the order ``fire`` checks them (DESIGN.md)."""

from __future__ import annotations

from workflow.base.text import Text


class WorkflowError(Exception):
    code = "error"
    status = 400
    default = Text("操作失败", "The action failed")

    def __init__(self, message: Text | None = None, fields: dict[str, Text] | None = None):
        self.message = message or self.default
        self.fields = fields or {}
        super().__init__(str(self.message))

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that go with the answer (none, but for :class:`Unavailable`)."""
        return {}

    def as_json(self, lang: str = "zh") -> dict:
        return {
            "error": self.code,
            "message": self.message.get(lang),
            "fields": {name: text.get(lang) for name, text in self.fields.items()},
        }


class NotFound(WorkflowError):
    """Also for a case outside the actor's scope, so its existence does not leak."""

    code, status = "not_found", 404
    default = Text("找不到该事项", "Not found")


class Forbidden(WorkflowError):
    code, status = "forbidden", 403
    default = Text("您的角色不能执行此操作", "Your role may not take this action")


class StaleVersion(WorkflowError):
    code, status = "stale_version", 409
    default = Text(
        "该事项已被他人更新，请刷新后重试", "The case was changed by someone else; reload and retry"
    )


class NotAllowed(WorkflowError):
    code, status = "not_allowed", 409
    default = Text("当前状态下不能执行此操作", "This action is not allowed in the current state")


class Invalid(WorkflowError):
    code, status = "invalid", 422
    default = Text("提交的内容有误，请检查", "The submission has errors; please check")


class Unavailable(WorkflowError):
    """The database could not take the change now (locked by another writer past the wait,
    full, out of resources): nothing was written; the same request later succeeds."""

    code, status = "unavailable", 503
    default = Text("系统繁忙，本次提交未保存，请稍后重试",
                   "The service is busy and nothing was saved; please try again shortly")
    retry_after = 5

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class AlreadyFired(Exception):
    """A timer was fired by another runner first; nothing was written."""
