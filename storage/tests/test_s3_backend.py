"""STORAGE_BACKEND=s3 against a local S3 server started by the test (moto's server mode): the real
boto3 client through django-storages, driven by the app's own services and views — upload, the
owner's download, a share-link download, move to trash and delete for good (the object goes)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from storage import services, shares, trash
from storage.backends import file_storage
from testutils.liveserver import free_port

pytestmark = pytest.mark.django_db

BUCKET = "cjh-files-test"


@pytest.fixture
def s3(settings, monkeypatch):
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - moto[server] is in requirements-dev.txt
        pytest.skip(f"S3 test skipped: moto[server] or boto3 is not importable ({exc})")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")  # nothing from the machine's own AWS set-up
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test-key", aws_secret_access_key="test-secret")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGE_BACKEND = "s3"
        settings.STORAGE_S3_BUCKET = BUCKET
        settings.STORAGE_S3_ENDPOINT_URL = endpoint
        settings.STORAGE_S3_REGION = "us-east-1"
        settings.STORAGE_S3_ACCESS_KEY_ID = "test-key"
        settings.STORAGE_S3_SECRET_ACCESS_KEY = "test-secret"
        yield client
    finally:
        server.stop()


def _keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_upload_download_and_delete_go_through_s3(s3, owner, owner_client, django_capture_on_commit_callbacks):
    from storages.backends.s3 import S3Storage

    assert isinstance(file_storage(), S3Storage)
    content = b"stored in a bucket, not on this disk\n" * 1000
    file = services.file_store(user=owner, content=content, name="bucket.txt", mime_type="text/plain")
    assert _keys(s3) == [file.storage_path]
    stored = s3.get_object(Bucket=BUCKET, Key=file.storage_path)
    assert stored["Body"].read() == content
    assert stored.get("ServerSideEncryption") in (None, "AES256")
    acl = s3.get_object_acl(Bucket=BUCKET, Key=file.storage_path)
    assert not [grant for grant in acl["Grants"] if grant["Grantee"].get("URI", "").endswith("AllUsers")]  # private

    download = owner_client.get(reverse("storage:download", args=[file.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == content
    created = shares.share_create(user=owner, file=file)
    shared = Client().get(f"/s/{created.token}/download/")
    assert shared.status_code == 200 and b"".join(shared.streaming_content) == content

    trash.file_trash(file=file)
    assert _keys(s3) == [file.storage_path]  # the trash keeps the blob
    with django_capture_on_commit_callbacks(execute=True):
        trash.file_delete_forever(user=owner, file=file)
    assert _keys(s3) == []
