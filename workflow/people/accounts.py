"""People, their roles per organisation (G15) and API tokens.

Passwords are hashed with werkzeug's scrypt; API tokens are random, shown once and
stored only as a SHA-256 digest, and can be revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from workflow.base.errors import Invalid, NotFound
from workflow.base.text import Text
from workflow.base.timeutil import utcnow
from workflow.people.actors import ROLES, Actor
from workflow.store.models import grants, orgs, tokens, users

ROLE_LABELS: dict[str, Text] = {
    "handler": Text("承办人", "Handling officer"),
    "reviewer": Text("负责人", "Responsible person"),
    "leading_group": Text("党务公开领导小组成员", "Disclosure leading group"),
    "secretary": Text("书记", "Secretary"),
    "office": Text("办公室", "Office staff"),
    "upper_receiver": Text("上级备案受理", "Upper-level filing desk"),
    "supervisor": Text("党务公开监督员", "Disclosure supervisor"),
    "auditor": Text("审计员", "Auditor"),
    "admin": Text("管理员", "Administrator"),
    "member": Text("党员", "Party member"),
}
assert set(ROLE_LABELS) == set(ROLES)

MIN_PASSWORD = 8


@dataclass(frozen=True)
class Account:
    """A signed-in person: who they are and their roles as the engine's Actor."""

    id: int
    username: str
    display_name: str
    lang: str
    roles: tuple[tuple[str, str, str, str], ...]  # (org code, org name, org path, role)
    session_gen: int = 0

    @property
    def actor(self) -> Actor:
        return Actor("user", self.username, frozenset((path, role)
                                                     for _c, _n, path, role in self.roles))

    def has(self, role: str) -> bool:
        return any(r == role for *_, r in self.roles)

    def orgs_with(self, role: str) -> list[str]:
        return [path for _c, _n, path, r in self.roles if r == role]


def add_user(conn: Connection, username: str, org_code: str, roles: list[str],
             password: str | None = None, display_name: str = "") -> int:
    if not username or len(username) > 64 or not username.replace("-", "").replace(
            "_", "").replace(".", "").isalnum():
        raise Invalid(fields={"username": Text("用户名只能含字母、数字、-、_、.",
                                               "Letters, digits, - _ . only")})
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise Invalid(fields={"role": Text("角色应为：{r}", "Role must be one of: {r}")
                              .format(r=", ".join(ROLES))})
    org = conn.execute(sa.select(orgs.c.id).where(orgs.c.code == org_code)).first()
    if org is None:
        raise NotFound(Text("找不到组织 {c}", "No organisation {c}").format(c=org_code))
    row = conn.execute(sa.select(users.c.id).where(users.c.username == username)).first()
    if row is None:
        user_id = conn.execute(sa.insert(users).values(
            username=username, display_name=display_name or username, created_at=utcnow(),
        ).returning(users.c.id)).scalar_one()
    else:
        user_id = row.id
    if password is not None:
        set_password(conn, user_id, password)
    for role in roles:
        exists = conn.execute(sa.select(grants.c.id).where(
            grants.c.user_id == user_id, grants.c.org_id == org.id, grants.c.role == role)).first()
        if not exists:
            conn.execute(sa.insert(grants).values(user_id=user_id, org_id=org.id, role=role))
    return user_id


def set_password(conn: Connection, user_id: int, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(fields={"password": Text("密码至少 {n} 位", "At least {n} characters")
                              .format(n=MIN_PASSWORD)})
    conn.execute(sa.update(users).where(users.c.id == user_id)
                 .values(password_hash=generate_password_hash(password)))
    end_sessions(conn, user_id)


def end_sessions(conn: Connection, user_id: int) -> int:
    """End every web session and API token of the user at once (issue 20, item 4): the
    session generation moves on, so a cookie saved earlier opens nothing; the tokens
    are revoked. How many tokens were still live."""
    conn.execute(sa.update(users).where(users.c.id == user_id)
                 .values(session_gen=users.c.session_gen + 1))
    done = conn.execute(sa.update(tokens).where(tokens.c.user_id == user_id,
                                                tokens.c.revoked_at.is_(None))
                        .values(revoked_at=utcnow()))
    return done.rowcount


def disable(conn: Connection, username: str) -> None:
    """The user can no longer sign in, and every session and token ends now."""
    end_sessions(conn, _user_id(conn, username))
    conn.execute(sa.update(users).where(users.c.username == username).values(active=False))


def _user_id(conn: Connection, username: str) -> int:
    user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise NotFound(Text("找不到用户 {u}", "No user {u}").format(u=username))
    return user_id


def remove_grant(conn: Connection, user_id: int, org_code: str, role: str) -> None:
    org = conn.execute(sa.select(orgs.c.id).where(orgs.c.code == org_code)).scalar()
    conn.execute(sa.delete(grants).where(grants.c.user_id == user_id, grants.c.org_id == org,
                                         grants.c.role == role))


def load(conn: Connection, user_id: int) -> Account | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id,
                                              users.c.active.is_(True))).first()
    if row is None:
        return None
    roles = conn.execute(
        sa.select(orgs.c.code, orgs.c.name, orgs.c.path, grants.c.role)
        .join(orgs, orgs.c.id == grants.c.org_id).where(grants.c.user_id == user_id)
        .order_by(orgs.c.path, grants.c.role)).all()
    return Account(row.id, row.username, row.display_name, row.lang,
                   tuple((r.code, r.name, r.path, r.role) for r in roles), row.session_gen)


def authenticate(conn: Connection, username: str, password: str) -> Account | None:
    row = conn.execute(sa.select(users.c.id, users.c.password_hash).where(
        users.c.username == username, users.c.active.is_(True))).first()
    if row is None or not row.password_hash or not check_password_hash(row.password_hash,
                                                                        password):
        return None
    return load(conn, row.id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(conn: Connection, username: str) -> str:
    user_id = _user_id(conn, username)
    token = "gk_" + secrets.token_urlsafe(32)
    conn.execute(sa.insert(tokens).values(user_id=user_id, digest=_digest(token),
                                          created_at=utcnow()))
    return token


def revoke_tokens(conn: Connection, username: str) -> int:
    """Revoke the user's tokens, and end their web sessions with them."""
    return end_sessions(conn, _user_id(conn, username))


def by_token(conn: Connection, token: str) -> Account | None:
    user_id = conn.execute(sa.select(tokens.c.user_id).where(
        tokens.c.digest == _digest(token), tokens.c.revoked_at.is_(None))).scalar()
    return load(conn, user_id) if user_id else None


def list_users(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name, users.c.active,
                  orgs.c.code, grants.c.role)
        .outerjoin(grants, grants.c.user_id == users.c.id)
        .outerjoin(orgs, orgs.c.id == grants.c.org_id).order_by(users.c.username)).all()
    found: dict[int, dict[str, Any]] = {}
    for r in rows:
        entry = found.setdefault(r.id, {"id": r.id, "username": r.username,
                                        "display_name": r.display_name, "active": r.active,
                                        "roles": []})
        if r.role:
            entry["roles"].append({"org": r.code, "role": r.role})
    return list(found.values())


def people_at(conn: Connection, org_path: str) -> list[tuple[str, str]]:
    """(username, display name) of everyone holding a role at the organisation itself —
    whom a case there may be assigned to."""
    rows = conn.execute(
        sa.select(users.c.username, users.c.display_name).distinct()
        .join(grants, grants.c.user_id == users.c.id).join(orgs, orgs.c.id == grants.c.org_id)
        .where(orgs.c.path == org_path, users.c.active.is_(True),
               grants.c.role.in_(("handler", "office", "reviewer", "secretary")))
        .order_by(users.c.username)).all()
    return [(r.username, r.display_name) for r in rows]


def actor_of(conn: Connection, username: str) -> Actor | None:
    """The engine's actor for an active user by name, with every role they hold."""
    user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
    account = load(conn, user_id) if user_id is not None else None
    return account.actor if account is not None else None


def has_role_at(conn: Connection, username: str, org_path: str) -> bool:
    """Whether ``username`` holds any role at the organisation itself."""
    return conn.execute(
        sa.select(users.c.id).join(grants, grants.c.user_id == users.c.id)
        .join(orgs, orgs.c.id == grants.c.org_id)
        .where(users.c.username == username, users.c.active.is_(True),
               orgs.c.path == org_path).limit(1)).first() is not None
