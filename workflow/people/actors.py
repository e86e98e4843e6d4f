"""Who acts: a user with roles per organisation, an applicant, the public, the system.

Grants pair an organisation's path (``/1/4/``) with a role code (G15). A user sees a
case of their organisation or of its subtree; ``upper:ROLE`` in a trigger means the
role held at the parent of the case's organisation (A3, A4), ``lower:ROLE`` the role held
at an organisation strictly below it (G11: a lower organisation republishes an upper item).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = (
    "handler", "reviewer", "leading_group", "secretary", "office", "upper_receiver",
    "supervisor", "auditor", "admin", "member",
)


def parent_path(path: str) -> str | None:
    parts = path.strip("/").split("/")
    return "/" + "/".join(parts[:-1]) + "/" if len(parts) > 1 else None


#: the prefix of a role held at an organisation below the case's (G11)
LOWER = "lower:"


def is_below(path: str, org_path: str) -> bool:
    """Is the organisation at ``path`` strictly below the one at ``org_path``?"""
    return path != org_path and path.startswith(org_path)


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str
    grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        """How the event log names this actor."""
        return "system" if self.kind == "system" else f"{self.kind}:{self.id}"

    def sees(self, org_path: str, case_code: str | None) -> bool:
        if self.kind == "system":
            return True
        if self.kind == "applicant":
            return case_code is not None and case_code == self.id
        if self.kind == "public":
            return True
        return any(org_path.startswith(path) for path, _ in self.grants)

    def holds(self, roles: frozenset[str], org_path: str) -> bool:
        """Whether any of ``roles`` is held in relation to a case of ``org_path``."""
        if self.kind in ("system", "public", "applicant"):
            return self.kind in roles
        upper = parent_path(org_path)
        for path, role in self.grants:
            if path == org_path and role in roles:
                return True
            if path == upper and f"upper:{role}" in roles:
                return True
            if f"{LOWER}{role}" in roles and is_below(path, org_path):
                return True
        return False


SYSTEM = Actor("system", "system")
PUBLIC = Actor("public", "anonymous")


def user(username: str, grants: set[tuple[str, str]] | frozenset[tuple[str, str]]) -> Actor:
    return Actor("user", username, frozenset(grants))


def applicant(tracking_code: str) -> Actor:
    return Actor("applicant", tracking_code)
