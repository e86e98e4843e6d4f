"""Organisation keys, the ledger stream and the statements checkpoints are signed over (AU3).

Every organisation may hold an Ed25519 key (``gongkai audit keygen``). The private key is
a file under the key directory (``GONGKAI_KEY_DIR``, default ``instance/keys/``), never a
database row, so whoever can only write rows cannot sign; ``GONGKAI_KEY_PASSPHRASE``, when
set, encrypts the files. The public key is published as an event on the organisation's
own *ledger stream* and on the public board.

The ledger stream is the engine's ``ledger`` kind (version 1), defined here and not in
``machines/``: events that belong to no case (DESIGN.md, Events). Its events have exactly
the columns, canonical header and hash rule of a case's events, with ``case_id`` null,
``kind`` ``ledger``, ``from_state`` null on the first event and ``open`` after it, and
``to_state`` ``open``; they are kept in their own table (``ledger_events``) so that no
inbox, board or process list ever meets a case of a kind the registry does not know.
Each organisation's checkpoint lists its ledger head beside its case heads, so the
ledger is chained, checkpointed, witnessed, exported and verified like any case.

Triggers of the ledger kind (``read_ledger`` is its replay):

``key_added``  payload ``{"algorithm": "Ed25519", "key_id", "public_key", "replaces",
               "endorsement"}``: ``public_key`` is the raw 32-byte key in hex, ``key_id``
               the first 16 hex digits of its SHA-256; ``replaces`` the key it takes over
               from (null for the first), which is retired at this event's time;
               ``endorsement`` the replaced key's signature over :func:`key_statement`
               (null when the old private key was not at hand).

Signed statements are canonical JSON (RFC 8785) in UTF-8: see :func:`checkpoint_statement`,
:func:`witness_statement` and :func:`key_statement`; docs/audit-format.md says the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.canonical import GENESIS, canonical, event_hash, payload_digest
from workflow.base.errors import Invalid, NotFound
from workflow.base.keys import key_dir
from workflow.base.keys import passphrase as _passphrase
from workflow.base.text import Text
from workflow.base.timeutil import iso_utc, utcnow
from workflow.store.db import Database
from workflow.store.models import ledger_events, orgs

LEDGER_KIND = "ledger"
LEDGER_VERSION = 1
LEDGER_STATE = "open"
KEY_ADDED = "key_added"
ALGORITHM = "Ed25519"
LEDGER_LABEL = Text("组织台账", "Organisation ledger")
TRIGGER_LABELS = {KEY_ADDED: Text("公布签名密钥", "Signing key published")}
#: what a bundle's header says about the engine's own kind (it has no fingerprint row)
LEDGER_DEFINITION = {"kind": LEDGER_KIND, "version": LEDGER_VERSION, "engine": True,
                     "triggers": [KEY_ADDED]}

LEDGER_COLUMNS = ("org", "seq", "kind", "def_version", "trigger", "from_state", "to_state",
                  "actor", "at", "payload", "payload_digest", "prev_hash", "hash")


# -- statements and signatures -------------------------------------------------------------


def key_id_of(public_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


def checkpoint_statement(org: str, seq: int, hash_: str) -> bytes:
    """What an organisation signs for its checkpoint ``seq``."""
    return canonical({"type": "checkpoint", "org": org, "seq": seq, "hash": hash_})


def witness_statement(org: str, seq: int, hash_: str, holder: str) -> bytes:
    """What the upper level ``holder`` signs when it files a copy of the checkpoint."""
    return canonical({"type": "witness", "org": org, "seq": seq, "hash": hash_,
                      "holder": holder})


def key_statement(org: str, key_id: str, public_key: str) -> bytes:
    """What a retiring key signs to endorse the key that replaces it."""
    return canonical({"type": "key", "org": org, "key_id": key_id, "public_key": public_key})


def verify_signature(public_hex: str, signature_hex: str | None, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        key.verify(bytes.fromhex(signature_hex or ""), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def sign(private_key: Any, message: bytes) -> str:
    return private_key.sign(message).hex()


# -- private keys on disk ---------------------------------------------------------------


def private_key_path(key_id: str, directory: Path | str | None = None) -> Path:
    return key_dir(directory) / f"{key_id}.pem"


def load_private(key_id: str, directory: Path | str | None = None) -> Any | None:
    """The private key for ``key_id`` from the key directory, or None when absent."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    path = private_key_path(key_id, directory)
    if not path.is_file():
        return None
    return load_pem_private_key(path.read_bytes(), password=_passphrase())


def _public_hex(private_key: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def generate(directory: Path | str | None = None) -> tuple[str, str, Any]:
    """A new key pair, its private half written (mode 0600) before anything publishes it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        BestAvailableEncryption,
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    private = Ed25519PrivateKey.generate()
    public = _public_hex(private)
    key_id = key_id_of(public)
    secret = _passphrase()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                BestAvailableEncryption(secret) if secret else NoEncryption())
    path = private_key_path(key_id, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key_id, public, private


# -- the ledger kind: replay -------------------------------------------------------------


@dataclass
class Key:
    org: str
    key_id: str
    public_key: str
    added_at: str
    added_seq: int
    replaces: str | None = None
    retired_at: str | None = None
    endorsed: bool = False

    def active_at(self, at: str) -> bool:
        """Whether the key was the organisation's at ``at`` (canonical UTC ISO text)."""
        return self.added_at <= at and (self.retired_at is None or at < self.retired_at)

    def as_json(self) -> dict[str, Any]:
        return {"org": self.org, "key_id": self.key_id, "algorithm": ALGORITHM,
                "public_key": self.public_key, "added_at": self.added_at,
                "retired_at": self.retired_at, "ledger_seq": self.added_seq,
                "replaces": self.replaces}


def read_ledger(org: str, rows: Iterable[Mapping[str, Any]]
                ) -> tuple[dict[str, Key], list[tuple[int, Text]]]:
    """Replay an organisation's ledger stream: its keys, and each event that breaks the
    kind's rules as (seq, reason). Events without a payload (never in our exports) are
    passed over."""
    keys: dict[str, Key] = {}
    wrong: list[tuple[int, Text]] = []
    for ev in rows:
        seq = ev["seq"]
        if ev["kind"] != LEDGER_KIND or ev["def_version"] != LEDGER_VERSION:
            wrong.append((seq, Text("不是组织台账事件", "not a ledger event")))
            continue
        if ev["trigger"] != KEY_ADDED:
            wrong.append((seq, Text(f"未知操作 {ev['trigger']}", f"unknown trigger "
                                                               f"{ev['trigger']}")))
            continue
        if ev["payload"] is None:
            continue
        try:
            payload = json.loads(ev["payload"])
            public, key_id = payload["public_key"], payload["key_id"]
            derived = key_id_of(public)
        except (ValueError, KeyError, TypeError):
            wrong.append((seq, Text("密钥内容无法解析", "key payload unreadable")))
            continue
        if payload.get("algorithm") != ALGORITHM or len(public) != 64 or derived != key_id:
            wrong.append((seq, Text("密钥编号与公钥不符", "key id does not match the key")))
            continue
        if key_id in keys:
            wrong.append((seq, Text("密钥重复公布", "key published twice")))
            continue
        old_id = payload.get("replaces")
        old = keys.get(old_id) if old_id else None
        if old_id and (old is None or old.retired_at is not None):
            wrong.append((seq, Text("被替换的密钥不是现用密钥",
                                    "the replaced key is not the current key")))
            continue
        endorsed = False
        if payload.get("endorsement"):
            endorsed = old is not None and verify_signature(
                old.public_key, payload["endorsement"], key_statement(org, key_id, public))
            if not endorsed:
                wrong.append((seq, Text("旧密钥的背书签名无效",
                                        "the old key's endorsement does not verify")))
                continue
        if old is not None:
            old.retired_at = ev["at"]
        elif any(k.retired_at is None for k in keys.values()):
            wrong.append((seq, Text("已有现用密钥，新密钥须注明替换哪一个",
                                    "a key is in use: a new key must say which it replaces")))
            continue
        keys[key_id] = Key(org, key_id, public, ev["at"], seq, old_id, None, endorsed)
    return keys, wrong


def active_key(keys: Mapping[str, Key], at: str) -> Key | None:
    found = [k for k in keys.values() if k.active_at(at)]
    return max(found, key=lambda k: k.added_seq) if found else None


def current_key(keys: Mapping[str, Key]) -> Key | None:
    found = [k for k in keys.values() if k.retired_at is None]
    return max(found, key=lambda k: k.added_seq) if found else None


# -- the ledger in the database -------------------------------------------------------------


def ledger_rows(conn: Connection, org_codes: Iterable[str] | None = None
                ) -> dict[str, list[dict[str, Any]]]:
    """Every ledger event, by organisation, in seq order (``case_id`` null, as hashed)."""
    query = sa.select(*[ledger_events.c[n] for n in LEDGER_COLUMNS])
    if org_codes is not None:
        query = query.where(ledger_events.c.org.in_(sorted(set(org_codes))))
    found: dict[str, list[dict[str, Any]]] = {}
    for r in conn.execute(query.order_by(ledger_events.c.org, ledger_events.c.seq)):
        found.setdefault(r.org, []).append({"case_id": None, **r._mapping})
    return found


def keys_by_org(conn: Connection, org_codes: Iterable[str] | None = None
                ) -> dict[str, dict[str, Key]]:
    return {org: read_ledger(org, rows)[0]
            for org, rows in ledger_rows(conn, org_codes).items()}


def ledger_heads(conn: Connection) -> list[tuple[str, int, str]]:
    """(org, seq, hash) of each organisation's last ledger event."""
    last = (sa.select(ledger_events.c.org, sa.func.max(ledger_events.c.seq).label("seq"))
            .group_by(ledger_events.c.org).subquery())
    rows = conn.execute(sa.select(ledger_events.c.org, ledger_events.c.seq, ledger_events.c.hash)
                        .join(last, sa.and_(last.c.org == ledger_events.c.org,
                                            last.c.seq == ledger_events.c.seq))
                        .order_by(ledger_events.c.org))
    return [(r.org, r.seq, r.hash) for r in rows]


def append_ledger(conn: Connection, org: str, trigger: str, actor: str,
                  payload: Mapping[str, Any], now=None) -> dict[str, Any]:
    """Append one event to ``org``'s ledger stream inside the caller's transaction."""
    last = conn.execute(sa.select(ledger_events.c.seq, ledger_events.c.hash)
                        .where(ledger_events.c.org == org)
                        .order_by(ledger_events.c.seq.desc()).limit(1)).first()
    text = canonical(dict(payload)).decode("utf-8")
    event = {
        "case_id": None, "seq": (last.seq + 1) if last else 1, "kind": LEDGER_KIND,
        "def_version": LEDGER_VERSION, "org": org, "trigger": trigger,
        "from_state": LEDGER_STATE if last else None, "to_state": LEDGER_STATE,
        "actor": actor, "at": iso_utc(now or utcnow()), "payload_digest": payload_digest(text),
        "prev_hash": last.hash if last else GENESIS,
    }
    event["hash"] = event_hash(event)
    event["payload"] = text
    conn.execute(sa.insert(ledger_events).values(
        **{k: v for k, v in event.items() if k != "case_id"}))
    return event


KEY_EXISTS = Text("组织 {org} 已有签名密钥 {key}；更换请用 --rotate",
                  "{org} already has signing key {key}; use --rotate to replace it")


def add_key(db: Database, org_code: str, actor: str = "system", rotate: bool = False,
            directory: Path | str | None = None, now=None) -> Key:
    """Generate an organisation's key pair and publish the public key on its ledger.

    With a key in use, only ``rotate`` replaces it; the old key endorses the new one when
    its private half is at hand. The private key file is written first, so the ledger
    never publishes a key nobody holds."""
    with db.read() as conn:
        if conn.execute(sa.select(orgs.c.id).where(orgs.c.code == org_code)).first() is None:
            raise NotFound(Text("找不到组织 {c}", "No organisation {c}").format(c=org_code))
        old = current_key(keys_by_org(conn, [org_code]).get(org_code, {}))
    if old is not None and not rotate:
        raise Invalid(KEY_EXISTS.format(org=org_code, key=old.key_id))
    key_id, public, _private = generate(directory)
    endorsement = None
    if old is not None:
        previous = load_private(old.key_id, directory)
        if previous is not None:
            endorsement = sign(previous, key_statement(org_code, key_id, public))
    payload = {"algorithm": ALGORITHM, "key_id": key_id, "public_key": public,
               "replaces": old.key_id if old else None, "endorsement": endorsement}
    with db.write() as conn:
        if not db.is_sqlite:
            conn.exec_driver_sql(f"LOCK TABLE {ledger_events.name} IN SHARE ROW EXCLUSIVE MODE")
        keys = keys_by_org(conn, [org_code]).get(org_code, {})
        now_current = current_key(keys)
        if (now_current.key_id if now_current else None) != payload["replaces"]:
            raise Invalid(Text("密钥刚被他人更换，请重试", "The key just changed; try again"))
        event = append_ledger(conn, org_code, KEY_ADDED, actor, payload, now)
    return Key(org_code, key_id, public, event["at"], event["seq"], payload["replaces"],
               None, endorsement is not None)
