"""The two file stores behind one interface, held to one suite of tests.

The folder store is tested directly on a temporary folder. The S3 store is tested against
moto's server (``moto[server]``'s ThreadedMotoServer): a fake of the S3 API, but a real
HTTP server on 127.0.0.1, so boto3 signs, sends and parses every request as it would
against an object store.
"""

from __future__ import annotations

import itertools
import socket

import pytest

from tests.history import at
from tests.workflow.test_attachments import pdf
from workflow.audit.chain import verify
from workflow.core.engine import Engine
from workflow.core.schema import Upload
from workflow.store.files import FolderStore, open_store, sha256_of
from workflow.store.s3 import S3Store

_buckets = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """One moto server for the test session (per xdist worker), on a free local port."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_url(s3_endpoint, monkeypatch) -> str:
    """A fresh bucket on the moto server; the credentials come from the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    bucket = f"gongkai-test-{next(_buckets)}"
    url = f"s3://{bucket}/attachments?endpoint={s3_endpoint}&region=us-east-1"
    S3Store.from_url(url).client.create_bucket(Bucket=bucket)
    return url


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return FolderStore(tmp_path / "store")
    return S3Store.from_url(request.getfixturevalue("s3_url"))


def test_put_returns_the_digest_and_get_gives_the_bytes_back(store):
    data = "附件内容 / attachment".encode() + bytes(range(256))
    digest = store.put(data)
    assert digest == sha256_of(data)
    assert store.get(digest) == data


def test_put_is_idempotent(store):
    first = store.put(b"%PDF-1.4 same bytes")
    assert store.put(b"%PDF-1.4 same bytes") == first
    assert list(store.digests()) == [first]


def test_digests_lists_every_key_once(store):
    put = {store.put(f"file {n}".encode()) for n in range(5)}
    found = list(store.digests())
    assert sorted(found) == sorted(put)


def test_delete_removes_and_a_missing_key_is_no_error(store):
    digest = store.put(b"to be removed")
    kept = store.put(b"to be kept")
    store.delete(digest)
    store.delete(digest)
    assert store.get(digest) is None
    assert list(store.digests()) == [kept]


def test_a_missing_key_reads_as_none(store):
    assert store.get(sha256_of(b"never stored")) is None
    assert list(store.digests()) == []


@pytest.mark.parametrize("bad", ["../../etc/passwd", "AB" * 32, "ab" * 31, "", "ab" * 32 + "/x"])
def test_a_key_that_is_not_a_digest_is_refused(store, bad):
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        store.get(bad)
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        store.delete(bad)


def test_s3_keys_are_content_addressed_under_the_prefix(s3_url):
    store = S3Store.from_url(s3_url)
    digest = store.put(b"laid out by digest")
    listed = store.client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [o["Key"] for o in listed] == [f"attachments/{digest[:2]}/{digest[2:4]}/{digest}"]
    store.client.put_object(Bucket=store.bucket, Key="other/thing", Body=b"not ours")
    store.client.put_object(Bucket=store.bucket, Key=f"attachments/{digest}", Body=b"stray")
    assert list(store.digests()) == [digest], "only keys laid out as the store lays them"


def test_open_store_picks_the_store_by_url(s3_url, tmp_path):
    s3 = open_store(s3_url)
    assert isinstance(s3, S3Store)
    assert (s3.bucket, s3.prefix) == (s3_url[5:].split("/")[0], "attachments")
    assert isinstance(open_store((tmp_path / "f").as_uri()), FolderStore)


def test_s3_url_refuses_credentials_without_echoing_them():
    with pytest.raises(ValueError) as refused:
        S3Store.from_url("s3://AKIDEXAMPLE:s3cr3t@bucket/prefix")
    assert "s3cr3t" not in str(refused.value) and "AWS_ACCESS_KEY_ID" in str(refused.value)


@pytest.mark.parametrize("url", ["s3://bucket?endpiont=http://x", "s3:///prefix",
                                 "s3://bucket?addressing=sideways"])
def test_s3_url_refuses_what_it_does_not_understand(url):
    with pytest.raises(ValueError):
        S3Store.from_url(url)


def test_engine_round_trip_through_s3_and_verify_names_a_deleted_object(
        db, registry, people, s3_url):
    store = S3Store.from_url(s3_url)
    engine = Engine(db, registry, files=store)
    engine.record_definitions()
    handler = people["handler"]
    case = engine.start("sample", "T", handler, {"title": "对象存储里的附件"}, at(0))
    data = pdf()
    done = engine.fire(case.id, "submit", handler,
                       {"amount": 1, "documents": [Upload("告知书.pdf", data)]}, 1, at(1))
    assert done.seq == 2
    digest = sha256_of(data)
    assert store.get(digest) == data and list(store.digests()) == [digest]
    assert verify(db, registry, files=store).ok
    store.delete(digest)
    found = verify(db, registry, files=store).problems
    assert [(p.case_id, p.seq, p.code) for p in found] == [(case.id, 2, "file_missing")]
    assert "告知书.pdf" in found[0].message.zh
