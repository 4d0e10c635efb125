"""The vote-link pages of the email round (Starlette).

``GET /polls/{id}/vote?t=TOKEN`` shows a confirmation form and changes
nothing, so a mail scanner that follows links casts no stance; ``POST`` (the
token in the form body) casts it through ``Bot.dispatch``. A refused link gets
a page that says why (tampered, expired, used, another proposal's, closed, not
allowed). Every value on a page is escaped by Jinja2's autoescape.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.errors import N_
from bot.i18n import Translator, translator
from bot.polls.links import LinkView, cast_by_link, check_link
from bot.polls.stances import STANCE_LABELS
from bot.polls.tokens import TokenRefused
from bot.types import plain_times

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

STATUS = {"tampered": 400, "other-poll": 400, "expired": 410, "closed": 410, "used": 409,
          "not-allowed": 403, "reason-needed": 422}

_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
.text{white-space:pre-wrap;border-left:3px solid #ccc;padding-left:1rem}
.refused{color:#b71c1c}</style></head>
<body><h1>{{ title }}</h1>
{% if refused %}<p class="refused" data-code="{{ code }}">{{ message }}</p>
{% elif done %}<p class="done">{% for line in lines %}{{ line }}<br>{% endfor %}</p>
{% else %}
<p>{{ intro }}</p><div class="text">{{ text }}</div>
<form method="post" action="{{ action }}">
<input type="hidden" name="t" value="{{ token }}">
{% if needs_reason %}<p><label for="reason">{{ reason_label }}</label><br>
<textarea id="reason" name="reason" rows="5" cols="60" required></textarea></p>
{% else %}<p><label for="reason">{{ reason_optional }}</label><br>
<textarea id="reason" name="reason" rows="3" cols="60"></textarea></p>{% endif %}
<p><button type="submit">{{ confirm }}</button></p></form>
{% endif %}</body></html>"""

_env = Environment(loader=DictLoader({"page.html": _PAGE}),
                   autoescape=select_autoescape(default=True, default_for_string=True))


def _page(status: int, **ctx: Any) -> HTMLResponse:
    html = _env.get_template("page.html").render(**ctx)
    return HTMLResponse(html, status_code=status,
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                 "X-Content-Type-Options": "nosniff"})


def _refused(tr: Translator, exc: TokenRefused) -> HTMLResponse:
    return _page(STATUS.get(exc.code, 400), lang=tr.language, refused=True, code=exc.code,
                 title=tr.gettext(N_("This link cannot be used")),
                 message=tr.gettext(exc.reason, **exc.params))


def _confirm(tr: Translator, view: LinkView, *, token: str, action: str) -> HTMLResponse:
    stance = tr.gettext(STANCE_LABELS[view.token.stance])
    return _page(200, lang=tr.language, refused=False, done=False, token=token, action=action,
                 title=tr.gettext(N_("Proposal #{id}: {title}"), id=view.token.poll_id,
                                  title=view.title),
                 intro=tr.gettext(N_("{name}, confirm your stance on round {round}: {stance}."),
                                  name=view.person_name, round=view.token.round_no,
                                  stance=stance),
                 text=view.text, needs_reason=view.needs_reason,
                 reason_label=tr.gettext(N_("Your reason (needed for {stance})"),
                                         stance=stance),
                 reason_optional=tr.gettext(N_("A comment (optional)")),
                 confirm=tr.gettext(N_("Confirm: {stance}"), stance=stance))


def vote_routes(bot: Bot) -> list[Route]:
    """The GET (confirm) and POST (cast) routes of vote links."""
    default = translator(bot.settings.default_language)

    def show(request: Request) -> HTMLResponse:
        poll_id = int(request.path_params["poll_id"])
        token = request.query_params.get("t", "")
        try:
            view = check_link(bot, token=token, poll_id=poll_id)
        except TokenRefused as exc:
            return _refused(default, exc)
        return _confirm(translator(view.language), view, token=token,
                        action=f"/polls/{poll_id}/vote")

    async def cast(request: Request) -> HTMLResponse:
        poll_id = int(request.path_params["poll_id"])
        form = await request.form()
        token = str(form.get("t") or request.query_params.get("t") or "")
        reason = str(form.get("reason") or "")
        try:
            view = await run_in_threadpool(check_link, bot, token=token, poll_id=poll_id)
            recorded, replies = await run_in_threadpool(
                cast_by_link, bot, token=token, poll_id=poll_id, reason=reason)
        except TokenRefused as exc:
            return _refused(default, exc)
        tr = translator(view.language)
        lines = [plain_times(r.message.text) for r in replies]
        title = tr.gettext(N_("Stance recorded")) if recorded else \
            tr.gettext(N_("Nothing was recorded"))
        return _page(200 if recorded else 403, lang=tr.language, refused=False, done=True,
                     title=title, lines=lines)

    return [Route("/polls/{poll_id:int}/vote", show, methods=["GET"]),
            Route("/polls/{poll_id:int}/vote", cast, methods=["POST"])]

