"""Secret keys kept as files beside the data in the embedded mode.

Four services start together on a fresh data folder, and each may be the first to need a key
that they all share (the development token secret). A check-then-write lets two of them write
different keys, or one read a file another has only begun to write. So a key file is made
whole under a temporary name and then hard-linked into place: linking fails if the name
exists, so exactly one writer wins, and a reader sees either no file or a complete one.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path


class InvalidKey(ValueError):
    """A key that is missing, malformed or too short: the service refuses to start with it."""


def decode_key(
    text: str, *, name: str, sizes: tuple[int, ...] | None = None, min_bytes: int = 32
) -> bytes:
    """The raw bytes of a base64 key, refused when empty, malformed or too short."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey(f"{name} is not valid base64") from None
    if sizes is not None and len(raw) not in sizes:
        allowed = " or ".join(str(size) for size in sizes)
        raise InvalidKey(f"{name} must be {allowed} bytes, got {len(raw)}")
    if len(raw) < min_bytes:
        raise InvalidKey(f"{name} must be at least {min_bytes} bytes, got {len(raw)}")
    return raw


def read_or_create(path: Path, *, size: int = 32) -> str:
    """The base64 key in `path`, created once (atomically, mode 0600) with `size` random bytes.

    A file that exists but holds no valid key of that size is an error, never replaced: the
    data encrypted or signed under the old key would be lost with it.
    """
    if not path.exists():
        _create_exclusively(path, base64.b64encode(secrets.token_bytes(size)))
    text = path.read_text().strip()
    decode_key(text, name=f"key file {path}", sizes=(size,), min_bytes=size)
    return text


def _create_exclusively(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won: everyone uses its key
    finally:
        temporary.unlink(missing_ok=True)
