"""An S3-compatible server on loopback (moto in server mode) and settings that store every file in it."""

import logging
import uuid
from dataclasses import dataclass

import pytest

from config.storage import storages_setting

REGION = "us-east-1"


@dataclass
class Bucket:
    """The bucket this test stores in, read directly through the S3 API (not through the project's code)."""

    client: object
    name: str
    endpoint: str

    def keys(self, prefix: str = "") -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(entry["Key"] for entry in listing.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server on a free loopback port, shared by the session (each test has its own bucket)."""
    from moto.server import ThreadedMotoServer  # imported here: every test session loads this module

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, monkeypatch, tmp_path):
    """Originals, thumbnails and quarantine in a fresh bucket; a worker started now gets the same settings.

    MEDIA_ROOT and QUARANTINE_ROOT point at empty folders, so a file written to the disk would show there.
    """
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION}
    for key, value in credentials.items():
        monkeypatch.setenv(key, value)
    import boto3

    bucket = f"dupfinder-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    client.create_bucket(Bucket=bucket)
    environment = {
        "DJANGO_STORAGE": "s3",
        "DJANGO_S3_BUCKET": bucket,
        "DJANGO_S3_ENDPOINT_URL": s3_endpoint,
        "DJANGO_S3_REGION": REGION,
        "DJANGO_S3_ADDRESSING_STYLE": "path",
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    settings.MEDIA_ROOT = tmp_path / "media-unused"
    settings.MEDIA_ROOT.mkdir()
    settings.STORAGES = storages_setting(
        backend="s3",
        quarantine_root=tmp_path / "quarantine-unused",
        staticfiles=settings.STORAGES["staticfiles"]["BACKEND"],
        bucket=bucket,
        endpoint_url=s3_endpoint,
        region=REGION,
        addressing="path",
    )
    yield Bucket(client=client, name=bucket, endpoint=s3_endpoint)
    assert not any(settings.MEDIA_ROOT.iterdir()), "a file was written to the local disk"
