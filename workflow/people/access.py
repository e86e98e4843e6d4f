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


#: checked against when there is no digest, so an unknown code costs what a known one does
_DECOY = generate_password_hash("decoy-" + secrets.token_hex(8))


def matches(digest: str | None, access_code: str | None) -> bool:
    """Whether ``access_code`` is the one ``digest`` keeps; a missing one never matches.

    The hash runs whether or not there is a digest, so the answer's timing does not tell
    an existing tracking code or receipt from an unknown one."""
    code = normalise(access_code) if isinstance(access_code, str) else ""
    found = check_password_hash(digest or _DECOY, code)
    return bool(digest and code and found)
