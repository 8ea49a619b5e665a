"""Server-rendered pages for citizens (码上办, tracking, finding a case, QR posters).

One Jinja2 environment with autoescape on, the page's language from ``?lang=``, and headers
that keep the pages inert: only our own small script (the copy button) may run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.core.i18n import t
from backend.refdata.index import RefIndex

TEMPLATES = Path(__file__).parent / "templates"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
    "script-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the tracking link is the citizen's key
    "Cache-Control": "no-store",
}


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True)
    )


def lang_of(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def lang_query(request: Request) -> str:
    """The query string that keeps the page's language on the next link or form."""
    return "?lang=en" if lang_of(request) == "en" else ""


#: staff pages post their forms back to this server, whose gate checks where a post comes
#: from: a page must say (the citizen pages say nothing: their link is the citizen's key)
STAFF_REFERRER = {"Referrer-Policy": "same-origin"}


def page(
    request: Request,
    template: str,
    http_status: int = 200,
    headers: dict[str, str] | None = None,
    **ctx: Any,
) -> HTMLResponse:
    lang = lang_of(request)
    other = "zh" if lang == "en" else "en"
    html = (
        _env()
        .get_template(template)
        .render(
            lang=lang,
            tr=lambda key, **kw: t(key, lang, **kw),
            switch_url=f"{request.url.path}?lang={other}",
            title=ctx.get("heading") or t("qr_title", lang),
            **ctx,
        )
    )
    return HTMLResponse(html, status_code=http_status, headers={**HEADERS, **(headers or {})})


def message(request: Request, status: int, title_key: str, key: str) -> HTMLResponse:
    lang = lang_of(request)
    return page(
        request,
        "message.html",
        status,
        heading=t("qr_title", lang),
        subheading=None,
        message_title=t(title_key, lang),
        message=t(key, lang),
    )


def not_found(request: Request, key: str) -> HTMLResponse:
    return message(request, 404, "qr_not_found_title", key)


def grid_path(ref: RefIndex, grid: str) -> str:
    """Township, community and grid, as a citizen would say where they are."""
    g = ref.grids[grid]
    names = ref.area_names
    community = names.get(g.community_code, "")
    return f"{names.get(g.township_code, '')} {community} {g.name.removeprefix(community)}".strip()
