"""The stored files, whatever the backend: what a storage error is, and whether a file has a local path.

Code that stores or reads files goes through Django's storage API (`default_storage` for originals and
thumbnails, `quarantine_storage()` for superseded files) and catches `STORAGE_ERRORS`, so the filesystem and
S3-compatible object storage (`DJANGO_STORAGE=s3`) behave alike and no host needs to see another's disk.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage, storages


def _object_storage_errors() -> tuple[type[Exception], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # botocore is only needed with DJANGO_STORAGE=s3
        return ()
    return (BotoCoreError, ClientError)


# A store that cannot be written or read just now: a full or unmounted disk, a bucket that refuses or cannot be
# reached. A missing file is FileNotFoundError (an OSError) from both backends.
STORAGE_ERRORS: tuple[type[Exception], ...] = (OSError, *_object_storage_errors())


def quarantine_storage() -> Storage:
    return storages["quarantine"]


def is_local(storage: Storage) -> bool:
    """Whether the storage keeps its files on this host's filesystem (so a front-end server may send them)."""
    return isinstance(storage, FileSystemStorage)  # default_storage is lazy but answers isinstance as its backend


def storage_replace(name: str, content: bytes, *, storage: Storage = default_storage) -> str:
    """Save `content` under exactly `name`, replacing what was there (fixed names: a second run overwrites)."""
    if storage.exists(name):
        storage.delete(name)
    return storage.save(name, ContentFile(content))
