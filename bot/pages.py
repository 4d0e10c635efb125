"""The signed-link pages' one look: a base template, one stylesheet, the
headers every page carries.

Every page a person opens from a link (a vote, their availability, an RSVP, a
sprint offer or sign-up, and every refusal) extends ``base.html`` from
``bot/templates/pages/`` and links ``/static/convene.css``: readable at 375 px
without sideways scrolling (long words and links wrap, fields take the width
they are given), in the person's language (``lang``), with no inline script or
style (a Content-Security-Policy can forbid both). A capability keeps its own
page templates beside its code and asks :func:`environment` for a Jinja2
environment that finds them and the base; every value is escaped
(autoescape on).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

PAGES_DIR = Path(__file__).parent / "templates" / "pages"
STYLESHEET = Path(__file__).parent / "static" / "convene.css"
#: Where pages find the stylesheet (served by :func:`static_routes`).
STYLESHEET_PATH = "/static/convene.css"
#: Headers of every page: never cached (a page shows a person's own link), not
#: framed, not sniffed, and no address leaks to another site.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
                "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


@cache
def environment(folder: str = "") -> Environment:
    """A Jinja2 environment whose templates are ``folder``'s (a capability's
    ``templates/``), then the shared ones (``base.html``, ``refused.html``)."""
    loaders = [FileSystemLoader(folder)] if folder else []
    return Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(str(PAGES_DIR))]),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       auto_reload=False)


def render_page(name: str, *, status: int = 200, folder: str = "", lang: str = "en",
                **context: Any) -> HTMLResponse:
    """Template ``name`` (from ``folder``, else the shared ones) as an HTML
    response with :data:`PAGE_HEADERS`. ``lang``: the reader's language (the
    page's ``lang`` attribute); ``context``: the template's values, escaped."""
    html = environment(folder).get_template(name).render(lang=lang, stylesheet=STYLESHEET_PATH,
                                                          **context)
    return HTMLResponse(html, status_code=status, headers=dict(PAGE_HEADERS))


@cache
def _css() -> bytes:
    return STYLESHEET.read_bytes()


def static_routes() -> list[Route]:
    """``GET /static/convene.css``: the pages' stylesheet (cacheable for a day)."""

    def stylesheet(_request: Request) -> Response:
        return Response(_css(), media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=86400",
                                 "X-Content-Type-Options": "nosniff"})

    return [Route(STYLESHEET_PATH, stylesheet, methods=["GET"])]
