"""The STORAGES setting for either backend: the local filesystem (the default) or S3-compatible object storage.

Originals and thumbnails live in the "default" storage, superseded files in "quarantine". With object storage
both are private prefixes (or buckets) that no one reaches without the application: files are streamed by the
views that check permissions, never linked to a bucket URL.
"""

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("filesystem", "s3")
FILESYSTEM = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"


def s3_options(*, bucket: str, location: str, endpoint_url: str = "", region: str = "", addressing: str = "") -> dict:
    """django-storages options for one private prefix; credentials come from boto3's own chain (AWS_* variables,
    an instance role, ~/.aws), never from settings.
    https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html#settings
    """
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": location,
        "default_acl": None,  # the bucket's own policy, private unless an administrator opened it
        "querystring_auth": True,
        # Same rule as the filesystem: a name already taken gets a free variant, nothing is overwritten.
        "file_overwrite": False,
        "signature_version": "s3v4",
        # Files above this are spooled to a temporary file while read (fingerprinting, checksums, copies).
        "max_memory_size": 16 * 1024 * 1024,
    }
    if endpoint_url:  # MinIO, Ceph, Garage, moto: anything that speaks S3
        options["endpoint_url"] = endpoint_url
    if region:
        options["region_name"] = region
    if addressing:
        options["addressing_style"] = addressing
    return options


def storages_setting(
    *,
    backend: str,
    quarantine_root: Path,
    staticfiles: str,
    bucket: str = "",
    quarantine_bucket: str = "",
    prefix: str = "media",
    quarantine_prefix: str = "quarantine",
    endpoint_url: str = "",
    region: str = "",
    addressing: str = "",
) -> dict[str, dict]:
    """The STORAGES dict for `backend` ("filesystem" or "s3")."""
    static = {"BACKEND": staticfiles}
    if backend == "filesystem":
        return {
            # MEDIA_ROOT, read when used (tests point it elsewhere with the settings fixture).
            "default": {"BACKEND": FILESYSTEM},
            "quarantine": {"BACKEND": FILESYSTEM, "OPTIONS": {"location": quarantine_root}},
            "staticfiles": static,
        }
    if backend != "s3":
        raise ImproperlyConfigured(f"DJANGO_STORAGE must be one of {', '.join(BACKENDS)}, not {backend!r}.")
    if not bucket:
        raise ImproperlyConfigured("DJANGO_STORAGE=s3 needs DJANGO_S3_BUCKET.")
    shared = {"endpoint_url": endpoint_url, "region": region, "addressing": addressing}
    return {
        "default": {"BACKEND": S3, "OPTIONS": s3_options(bucket=bucket, location=prefix, **shared)},
        "quarantine": {
            "BACKEND": S3,
            "OPTIONS": s3_options(bucket=quarantine_bucket or bucket, location=quarantine_prefix, **shared),
        },
        "staticfiles": static,
    }
