"""Attachments in an S3-compatible object store: for deployments on several machines,
which cannot share one ``instance/files`` folder.

Keys are content-addressed as in the folder store, ``<prefix>/ab/cd/<digest>``; an S3
PUT is atomic, so a reader never sees half a file under a key. The store is configured
by ``GONGKAI_FILES_URL``::

    s3://bucket/prefix?endpoint=https://oss.example.cn&region=cn-east-1&addressing=path

``endpoint`` is left out for AWS itself; ``addressing`` (``path`` or ``virtual``) is for
servers that accept only one style (MinIO: path; Aliyun OSS: virtual). Credentials never
go in the URL: boto3 reads them from ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
(or its other usual sources), and nothing here logs or prints them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from workflow.store.files import check_digest, sha256_of

_OPTIONS = ("endpoint", "region", "addressing")
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3Store:
    """Content-addressed bytes in one bucket, under an optional key prefix."""

    def __init__(self, bucket: str, prefix: str = "", endpoint: str | None = None,
                 region: str | None = None, addressing: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint = endpoint
        s3: dict[str, Any] = {"addressing_style": addressing} if addressing else {}
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=region,
            config=Config(s3=s3, retries={"mode": "standard", "max_attempts": 5}))

    @classmethod
    def from_url(cls, url: str) -> S3Store:
        """``s3://bucket/prefix?endpoint=…&region=…&addressing=…``; credentials in the URL
        are refused without echoing it, so a secret pasted there reaches no log."""
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise ValueError("GONGKAI_FILES_URL must not hold credentials: set "
                             "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY instead")
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an S3 store URL: {url!r} (s3://bucket/prefix?endpoint=…)")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - set(_OPTIONS))
        if unknown:
            raise ValueError(f"unknown S3 store option(s) {', '.join(unknown)}: "
                             f"use {', '.join(_OPTIONS)}")
        options = {name: values[-1] for name, values in query.items() if values[-1]}
        if options.get("addressing") not in (None, "path", "virtual"):
            raise ValueError("addressing must be path or virtual")
        return cls(parts.netloc, parts.path, **options)

    def __repr__(self) -> str:
        return f"S3Store(s3://{self.bucket}/{self.prefix}, endpoint={self.endpoint})"

    def _key(self, digest: str) -> str:
        check_digest(digest)
        tail = f"{digest[:2]}/{digest[2:4]}/{digest}"
        return f"{self.prefix}/{tail}" if self.prefix else tail

    def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        key = self._key(digest)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return digest
        except ClientError as exc:
            if not _missing(exc):
                raise
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return digest

    def get(self, digest: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        with answer["Body"] as body:
            return body.read()

    def delete(self, digest: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))

    def digests(self) -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=start)
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(start):]
                digest = name.rsplit("/", 1)[-1]
                if name == f"{digest[:2]}/{digest[2:4]}/{digest}" and _is_digest(digest):
                    yield digest


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND


def _is_digest(text: str) -> bool:
    try:
        check_digest(text)
    except ValueError:
        return False
    return True
