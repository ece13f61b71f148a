"""Photos and other personal files: encrypted with the field keys, stored under
DATA_DIR/private (never a public media folder), read back only through views that check scope.

Files are named by random ids; a database row holds the name. Deleting the row's file is the
caller's job (services do it in the same place they delete the row)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse

from justface.crypto import fernet

_CATEGORY_CHARS = set("abcdefghijklmnopqrstuvwxyz_-")


def _root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _path(name: str) -> Path:
    path = (_root() / name).resolve()
    if _root().resolve() not in path.parents:
        raise ValueError("private file name escapes the private folder")
    return path


def save(category: str, content: bytes) -> str:
    """Encrypt and store `content`; returns the name to keep in the database."""
    if not category or not set(category) <= _CATEGORY_CHARS:
        raise ValueError(f"bad category {category!r}")
    name = f"{category}/{secrets.token_hex(16)}.bin"
    path = _path(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:  # write then rename: a crash never leaves half a file under the real name
        fh.write(fernet().encrypt(content))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return name


def read(name: str) -> bytes:
    return fernet().decrypt(_path(name).read_bytes())


def delete(name: str) -> bool:
    """Remove the file; True if it was there. Missing files are not an error (erasure is idempotent)."""
    if not name:
        return False
    try:
        _path(name).unlink()
        return True
    except FileNotFoundError:
        return False


def delete_on_commit(names: list[str]) -> None:
    """Delete the files once the surrounding transaction commits (never while its rows could
    still roll back to pointing at them)."""
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: [delete(n) for n in names])


def image_type(data: bytes) -> str | None:
    """ "jpeg", "png" or "webp" from an image's first bytes; None for anything else."""
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(b"\x89PNG"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_response(name: str) -> HttpResponse:
    """A kept photo, decrypted for someone allowed to see it (the caller checks), never cached."""
    data = read(name)
    response = HttpResponse(data, content_type=f"image/{image_type(data) or 'jpeg'}")
    response["Cache-Control"] = "no-store"
    return response


def exists(name: str) -> bool:
    return bool(name) and _path(name).exists()
