"""Where attachments' bytes live: stored once under their SHA-256, outside the web root.

A store knows nothing of cases or people; the ``attachments`` table says which case and
event a file belongs to, and the event records its digest, so the hash chain covers the
file (AU2). Two stores share one small interface and one suite of tests: a folder
(the default, ``instance/files``) and an S3-compatible object store for deployments on
several machines (``workflow.store.s3``). ``GONGKAI_FILES_URL`` picks one:
``file:///srv/gongkai/files`` or ``s3://bucket/prefix?endpoint=https://…&region=…``
(credentials from the usual ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

DEFAULT_FOLDER = Path("instance") / "files"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    """A digest used as a storage key: 64 lowercase hex digits and nothing else."""
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ValueError(f"not a SHA-256 digest: {digest!r}")
    return digest


class FileStore(Protocol):
    """Content-addressed bytes. ``put`` is idempotent: the same bytes, the same key."""

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 (hex)."""

    def get(self, digest: str) -> bytes | None:
        """The bytes stored under ``digest`` as they are now (None when missing); a caller
        that must trust them compares their digest (``audit verify`` does)."""

    def delete(self, digest: str) -> None:
        """Remove the bytes; a missing key is no error."""

    def digests(self) -> Iterator[str]:
        """Every key held, in no particular order."""


class FolderStore:
    """Files under ``root/ab/cd/<digest>``; written to a temporary file, flushed to disk
    and renamed, so a crash never leaves half a file under a digest."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        check_digest(digest)
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes | None:
        try:
            return self._path(digest).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)

    def digests(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if _DIGEST.match(path.name):
                yield path.name


def files_url() -> str:
    return os.environ.get("GONGKAI_FILES_URL") or DEFAULT_FOLDER.resolve().as_uri()


def open_store(url: str | None = None) -> FileStore:
    """The store a URL names (``GONGKAI_FILES_URL``, else ``instance/files``)."""
    url = url or files_url()
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return FolderStore(Path(urlsplit(url).path))
    if scheme == "s3":
        from workflow.store.s3 import S3Store

        return S3Store.from_url(url)
    if scheme == "":
        return FolderStore(Path(url))
    raise ValueError(f"unknown file store {url!r}: use file:///path or s3://bucket/prefix")
