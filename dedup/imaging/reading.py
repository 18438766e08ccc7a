"""Reading a file's bytes once: its SHA-256 and size, and a seekable handle for the decoder."""

import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import BinaryIO

from dedup.imaging.errors import Failure, FingerprintError

Source = str | os.PathLike[str] | BinaryIO
_IN_MEMORY_LIMIT = 16 * 1024 * 1024  # larger files are hashed as a stream and read again by Pillow
CHUNK = 1024 * 1024


def read_source(source: Source, stack: ExitStack) -> tuple[BinaryIO, str, int]:
    """Hash the bytes in one pass; small files stay in memory so Pillow does not read them again.

    I/O errors from the source propagate unchanged: the caller may want to retry them.
    """
    if isinstance(source, (str, os.PathLike)):
        fp: BinaryIO = stack.enter_context(open(source, "rb"))  # noqa: SIM115 - closed by the stack
    elif _seekable(source):
        fp = source
        fp.seek(0)
    else:
        fp = stack.enter_context(_spooled(source))
    head = _read_up_to(fp, _IN_MEMORY_LIMIT + 1)
    if not head:
        raise FingerprintError(Failure.EMPTY)
    digest, size = hashlib.sha256(head), len(head)
    if size <= _IN_MEMORY_LIMIT:
        return io.BytesIO(head), digest.hexdigest(), size
    del head
    while chunk := fp.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    fp.seek(0)
    return fp, digest.hexdigest(), size


def _seekable(source: BinaryIO) -> bool:
    try:
        return bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        return False


@contextmanager
def _spooled(source: BinaryIO) -> Iterator[BinaryIO]:
    # Pillow needs to seek, so a pipe or network stream is copied first (to disk when large).
    with tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_LIMIT) as spool:
        shutil.copyfileobj(source, spool, CHUNK)
        spool.seek(0)
        yield spool  # type: ignore[misc]


def _read_up_to(fp: BinaryIO, limit: int) -> bytes:
    # Chunks, not one read(limit): that allocates the whole limit even for a small file, and some
    # file objects (network storage) return short reads before the end.
    parts: list[bytes] = []
    size = 0
    while size < limit and (chunk := fp.read(min(CHUNK, limit - size))):
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


# --- opening and decoding ------------------------------------------------------------
