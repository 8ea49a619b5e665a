"""Photos citizens attach: checked by their first bytes (never by the name or the declared
type), limited in size and number, stored in SQL (every web process serves the same)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from backend.core.errors import CommandInvalid

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 3


@dataclass(frozen=True, slots=True)
class Photo:
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are, or None for anything we do not accept."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "image/heic"
    return None


def check_photos(files: list[tuple[str, bytes]], field: str = "photo") -> list[Photo]:
    """``files`` are (file name, bytes); empty inputs (no file chosen) are skipped."""
    files = [(n, d) for n, d in files if d]
    if len(files) > MAX_PHOTOS:
        raise CommandInvalid({field: f"at most {MAX_PHOTOS} photos"})
    out = []
    for name, data in files:
        if len(data) > MAX_PHOTO_BYTES:
            raise CommandInvalid({field: f"{name}: larger than {MAX_PHOTO_BYTES // 2**20} MB"})
        kind = sniff(data)
        if kind is None:
            raise CommandInvalid({field: f"{name}: not a JPEG, PNG, WebP or HEIC image"})
        out.append(Photo(kind, data))
    return out
