"""Secrets for people without an account: an access code shown once, kept only as a salted
hash (never in the event log), so that a tracking code or a receipt number alone opens
nothing (A1, A5; comments and registrations)."""

from __future__ import annotations

import secrets

from werkzeug.security import check_password_hash, generate_password_hash

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud, typed from paper


def new_access_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str) -> str:
    return code.strip().upper().replace(" ", "")


def hashed(access_code: str) -> str:
    return generate_password_hash(normalise(access_code))


def matches(digest: str | None, access_code: str | None) -> bool:
    """Whether ``access_code`` is the one ``digest`` keeps; a missing one never matches."""
    return bool(digest and access_code and isinstance(access_code, str)
                and check_password_hash(digest, normalise(access_code)))
