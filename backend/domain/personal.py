"""Personal data in what citizens write and leave: masked for people who do not handle the
case, redacted from the public feed.

Masking keeps enough to recognise a caller on the phone (the surname, the phone's first three
and last four digits); redaction replaces what identifies a person or a home with a word in
brackets, so the text still reads.
"""

from __future__ import annotations

import re

# an 11-digit mainland mobile (optionally +86 and separators), or a landline with its area code
_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[ -]?)?(?:1[3-9]\d(?:[ -]?\d{4}){2}|0\d{2,3}[ -]?\d{7,8})(?!\d)"
)
# a resident identity card number: 17 digits and a digit or X
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# a home: building, unit, floor and room (3栋2单元501室, 5号楼301, 12-3-402, 701室)
_ROOM = re.compile(
    r"(?:\d+\s*(?:栋|幢|号楼|座)\s*)?(?:\d+\s*单元\s*)?\d{2,4}\s*(?:室|房|号房)"
    r"|\d+\s*(?:栋|幢|号楼|座)\s*(?:\d+\s*单元\s*)?\d{3,4}(?!\d)"
    r"|(?<!\d)\d{1,3}-\d{1,2}-\d{3,4}(?!\d)"
)
_DIGITS = re.compile(r"\d[\d -]{5,}\d")


def redact(text: str | None, lang_words: tuple[str, str, str] = ("电话", "证件号", "门牌")) -> str:
    """The text with phone numbers, identity card numbers and room numbers replaced."""
    if not text:
        return text or ""
    phone, card, room = lang_words
    out = _ID_CARD.sub(f"[{card}]", text)
    out = _PHONE.sub(f"[{phone}]", out)
    return _ROOM.sub(f"[{room}]", out)


def _mask_digits(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_reporter(reporter: str | None) -> str | None:
    """ "张三 13800138000" → "张* 138****8000": a surname and a partial number."""
    if not reporter:
        return reporter
    out = []
    for part in reporter.split():
        if _DIGITS.fullmatch(part) or part.isdigit():
            out.append(_DIGITS.sub(_mask_digits, part) if len(part) >= 7 else "*" * len(part))
        elif "@" in part:
            user, _, domain = part.partition("@")
            out.append(f"{user[:1]}***@{domain}")
        else:
            out.append(part[:1] + "*" * max(1, len(part) - 1))
    return " ".join(out)
