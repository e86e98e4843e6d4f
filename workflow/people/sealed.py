"""Sealed personal values: an ID number stored encrypted at rest, never in clear in an event.

A payload field of type ``id_number`` is sealed by the door in the transaction that records
it: the event carries only ``{"masked": "3201**********1234", "digest": …}`` — the masked
form shown to the office and a keyed hash (HMAC-SHA-256, per case) with which a process
refuses the same number twice for one case (O4: a duplicate registration) without knowing
it — while the number itself, encrypted with AES-GCM, is a row of ``sealed_values``, bound
to its case and digest. Only :func:`reveal` reads it back, for the office's page.

The key is a file under the key directory (``workflow.base.keys``, like the checkpoint
keys), ``sealed.key``, made on first use (mode 0600); with ``GONGKAI_KEY_PASSPHRASE`` set
it is itself encrypted (scrypt, AES-GCM). Whoever holds only the database holds neither the
numbers nor a way to test a guess against a digest. Losing the key loses the numbers, not
the log: events keep the masked forms and the digests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from workflow.base.keys import key_dir, passphrase
from workflow.store.models import sealed_values

KEY_FILE = "sealed.key"


@dataclass(frozen=True)
class SealKey:
    key_id: str
    encrypt: bytes
    mac: bytes


def mask(value: str) -> str:
    """The form the office sees: the first four and last four characters, stars between
    (``3201**********1234``); a short value shows stars only."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def _wrap(secret: bytes, master: bytes) -> dict[str, str]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    salt, nonce = os.urandom(16), os.urandom(12)
    kek = Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(secret)
    return {"kdf": "scrypt", "salt": salt.hex(), "nonce": nonce.hex(),
            "key": AESGCM(kek).encrypt(nonce, master, b"gongkai sealed key").hex()}


def _unwrap(stored: Mapping[str, str], secret: bytes | None) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if stored.get("kdf") != "scrypt":
        return bytes.fromhex(stored["key"])
    if secret is None:
        raise RuntimeError("sealed.key 已加密，需要 GONGKAI_KEY_PASSPHRASE / sealed.key is "
                           "encrypted: set GONGKAI_KEY_PASSPHRASE")
    kek = Scrypt(salt=bytes.fromhex(stored["salt"]), length=32, n=2**14, r=8, p=1).derive(secret)
    return AESGCM(kek).decrypt(bytes.fromhex(stored["nonce"]), bytes.fromhex(stored["key"]),
                               b"gongkai sealed key")


def load_key(directory: Path | str | None = None) -> SealKey:
    """The sealing key, made on first use (two processes racing both end up with the file
    the first one wrote)."""
    path = key_dir(directory) / KEY_FILE
    if not path.is_file():
        master, secret = os.urandom(32), passphrase()
        stored = _wrap(secret, master) if secret else {"key": master.hex()}
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(stored, fh)
    master = _unwrap(json.loads(path.read_text(encoding="utf-8")), passphrase())
    return SealKey(key_id=hashlib.sha256(master).hexdigest()[:16],
                   encrypt=hmac.digest(master, b"gongkai sealed: encrypt", "sha256"),
                   mac=hmac.digest(master, b"gongkai sealed: digest", "sha256"))


def digest(key: SealKey, case_id: int, value: str) -> str:
    """The keyed hash of ``value`` within one case: equal numbers give equal digests in the
    same case and unrelated ones across cases, so no one links a person's cases by it."""
    return hmac.new(key.mac, f"{case_id}\x00{value}".encode(), "sha256").hexdigest()


def seal(conn: Connection, case_id: int, value: str, now: Any,
         key: SealKey | None = None) -> dict[str, str]:
    """Store ``value`` encrypted for ``case_id`` in the caller's transaction; what the event
    records instead of it. The same value twice in a case is one row."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = key or load_key()
    found = digest(key, case_id, value)
    nonce = os.urandom(12)
    box = AESGCM(key.encrypt).encrypt(nonce, value.encode(), f"{case_id}:{found}".encode())
    exists = conn.execute(sa.select(sealed_values.c.id).where(
        sealed_values.c.case_id == case_id, sealed_values.c.digest == found)).first()
    if exists is None:
        conn.execute(sa.insert(sealed_values).values(
            case_id=case_id, digest=found, key_id=key.key_id,
            sealed=base64.b64encode(nonce + box).decode("ascii"), created_at=now))
    return {"masked": mask(value), "digest": found}


def seal_payload(conn: Connection, fields: tuple[Any, ...], clean: dict[str, Any],
                 case_id: int, now: Any) -> None:
    """Replace each ``id_number`` value of ``clean`` by its sealed record (the door)."""
    key = None
    for f in fields:
        if f.type == "id_number" and isinstance(clean.get(f.name), str):
            key = key or load_key()
            clean[f.name] = seal(conn, case_id, clean[f.name], now, key)


def reveal(conn: Connection, case_id: int, found: str) -> str | None:
    """The clear value sealed for ``case_id`` under ``found``, or None (no such row, or a
    key other than the one it was sealed with). Only the office's page calls this."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    row = conn.execute(sa.select(sealed_values).where(
        sealed_values.c.case_id == case_id, sealed_values.c.digest == found)).first()
    if row is None:
        return None
    key = load_key()
    if row.key_id != key.key_id:
        return None
    raw = base64.b64decode(row.sealed)
    try:
        return AESGCM(key.encrypt).decrypt(raw[:12], raw[12:],
                                           f"{case_id}:{found}".encode()).decode()
    except InvalidTag:
        return None
