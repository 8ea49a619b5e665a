"""Request bodies of the public intake routes: read with a cap (a chunked upload without a
Content-Length is cut off too), then parsed as forms; too large is 413, malformed is 400."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import FormData, UploadFile


async def capped_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # Starlette's form() reads the cached body
    return body


async def read_form(request: Request, limit: int, max_files: int = 3) -> FormData:
    """The form of a urlencoded or multipart body, at most ``limit`` bytes."""
    await capped_body(request, limit)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise HTTPException(415, "send application/x-www-form-urlencoded or multipart/form-data")
    try:
        return await request.form(max_files=max_files, max_fields=100)
    except HTTPException:
        raise
    except Exception as exc:  # the multipart parser's errors: a malformed body
        raise HTTPException(400, f"malformed form body: {exc}") from None


def field(form: FormData, name: str) -> str | None:
    """A text field, stripped and without NUL characters (no text a person types holds one,
    and PostgreSQL refuses them); empty means absent (Open311's "optional" rule)."""
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def nul_fields(data: object, path: str = "body") -> dict[str, str]:
    """Where a JSON value holds a NUL character (in a string or a key), per field."""
    found: dict[str, str] = {}
    if isinstance(data, str):
        if "\x00" in data:
            found[path] = "contains a NUL character"
    elif isinstance(data, dict):
        for k, v in data.items():
            name = str(k)
            if "\x00" in name:
                found[path] = "a field name contains a NUL character"
            found.update(nul_fields(v, name if path == "body" else f"{path}.{name}"))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found.update(nul_fields(v, f"{path}[{i}]"))
    return found


async def files(form: FormData, name: str) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile):
            out.append((item.filename or name, await item.read()))
    return out


def client_ip(request: Request) -> str:
    """The client's address: behind nginx, the one its X-Forwarded-For gives, believed only
    from GRIDWATCH_TRUSTED_PROXIES (``gridwatch serve``; tests/test_proxy.py)."""
    return request.client.host if request.client else "unknown"


def number(form: FormData, name: str, errors: dict[str, str]) -> Any:
    raw = field(form, name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        errors[name] = "must be a number"
        return None
