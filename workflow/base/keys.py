"""Where the service's secret keys live: files under the key directory (``GONGKAI_KEY_DIR``,
default ``instance/keys/``), never database rows, so whoever can only write rows can neither
sign (the checkpoint keys, ``workflow.audit.signing``) nor read a sealed value
(``workflow.people.sealed``). ``GONGKAI_KEY_PASSPHRASE``, when set, encrypts the files."""

from __future__ import annotations

import os
from pathlib import Path


def key_dir(directory: Path | str | None = None) -> Path:
    if directory is not None:
        return Path(directory)
    return Path(os.environ.get("GONGKAI_KEY_DIR") or Path.cwd() / "instance" / "keys")


def passphrase() -> bytes | None:
    text = os.environ.get("GONGKAI_KEY_PASSPHRASE")
    return text.encode("utf-8") if text else None
