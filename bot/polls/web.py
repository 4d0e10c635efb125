"""The vote-link pages of the email round (Starlette), added to
the registry by the polls capability's install.

``GET /polls/{id}/vote?t=TOKEN`` shows a confirmation form and changes
nothing, so a mail scanner that follows links casts no stance; ``POST`` (the
token in the form body, with the form's ``confirm`` field, from a page of our
own origin: ``Origin`` or else ``Referer`` must match ``[http] base_url``)
casts it through ``Bot.dispatch``. A refused link gets a page in the person's
language that says why (tampered, expired, used, another proposal's, closed,
not allowed, an older text). With the database unreachable the pages answer
503 with a sentence. Every value on a page is escaped by Jinja2's autoescape.
Tokens never reach the access log (:func:`bot.web.redact_access_log`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.errors import N_
from bot.i18n import Translator, translator
from bot.pages import render_page
from bot.polls.links import LinkView, cast_by_link, check_link
from bot.polls.stances import STANCE_LABELS
from bot.tokens import LinkRefused
from bot.types import plain_times
from bot.web import language_of, redact_access_log

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.registry import Registry

log = logging.getLogger(__name__)

STATUS = {"tampered": 400, "other-poll": 400, "expired": 410, "closed": 410, "used": 409,
          "not-allowed": 403, "reason-needed": 422, "old-version": 409, "cross-origin": 403,
          "unconfirmed": 400}


def same_origin(request: Request, public_url: str) -> bool:
    """Whether a POST comes from a page of ``public_url``'s origin: its
    ``Origin`` header, else its ``Referer``, names the same scheme, host and port."""
    want = urlsplit(public_url)
    seen = request.headers.get("origin") or request.headers.get("referer") or ""
    got = urlsplit(seen)
    return bool(seen) and (got.scheme, got.netloc) == (want.scheme, want.netloc)

_TEMPLATES = str(Path(__file__).parent / "templates")


def _page(status: int, name: str = "refused.html", **ctx: Any) -> HTMLResponse:
    return render_page(name, status=status, folder=_TEMPLATES, **ctx)


def _refused(tr: Translator, exc: LinkRefused) -> HTMLResponse:
    return _page(STATUS.get(exc.code, 400), lang=tr.language, code=exc.code,
                 title=tr.gettext(N_("This link cannot be used")),
                 message=tr.gettext(exc.reason, **exc.params),
                 new_text=str(exc.params.get("text", "")),
                 way_back=tr.gettext(N_("You can also answer by replying to the ballot "
                                        "email, or in chat with the vote command.")))


def _unavailable(tr: Translator) -> HTMLResponse:
    return _page(503, lang=tr.language, code="unavailable",
                 title=tr.gettext(N_("Voting is unavailable for a moment")),
                 message=tr.gettext(N_("Voting is unavailable for a moment: our database cannot "
                                       "be reached. Nothing was recorded; please open the "
                                       "link again in a few minutes.")))


def _confirm(tr: Translator, view: LinkView, *, token: str, action: str, reason: str = "",
             error: str = "", status: int = 200) -> HTMLResponse:
    """The confirmation form; ``error`` (with the ``reason`` typed so far)
    when a POST must be asked again, e.g. a block without a reason."""
    stance = tr.gettext(STANCE_LABELS[view.token.stance])
    return _page(status, "vote.html", lang=tr.language, token=token, action=action,
                 title=tr.gettext(N_("Proposal #{id}: {title}"), id=view.token.poll_id,
                                  title=view.title),
                 intro=tr.gettext(N_("{name}, confirm your stance on round {round}: {stance}."),
                                  name=view.person_name, round=view.token.round_no,
                                  stance=stance),
                 text=view.text, needs_reason=view.needs_reason, reason=reason, error=error,
                 reason_label=tr.gettext(N_("Your reason (needed for {stance})"),
                                         stance=stance),
                 reason_optional=tr.gettext(N_("A comment (optional)")),
                 confirm=tr.gettext(N_("Confirm: {stance}"), stance=stance))


def vote_routes(bot: Bot) -> list[Route]:
    """The GET (confirm) and POST (cast) routes of vote links."""
    default = translator(bot.settings.default_language)

    def refused(exc: LinkRefused) -> HTMLResponse:
        try:
            return _refused(translator(language_of(bot, exc.person_id)), exc)
        except (OperationalError, DBAPIError):
            return _refused(default, exc)

    def show(request: Request) -> HTMLResponse:
        poll_id = int(request.path_params["poll_id"])
        token = request.query_params.get("t", "")
        try:
            view = check_link(bot, token=token, poll_id=poll_id)
        except LinkRefused as exc:
            return refused(exc)
        return _confirm(translator(view.language), view, token=token,
                        action=f"/polls/{poll_id}/vote")

    def cast_sync(poll_id: int, token: str, reason: str) -> HTMLResponse:
        view: LinkView | None = None
        try:
            view = check_link(bot, token=token, poll_id=poll_id)
            recorded, replies = cast_by_link(bot, token=token, poll_id=poll_id, reason=reason)
        except LinkRefused as exc:
            if exc.code == "reason-needed" and view is not None:
                # Not a dead end: the same form again, the reason field flagged.
                tr = translator(view.language)
                return _confirm(tr, view, token=token, action=f"/polls/{poll_id}/vote",
                                reason=reason, error=tr.gettext(exc.reason, **exc.params),
                                status=422)
            return refused(exc)
        tr = translator(view.language)
        lines = [plain_times(r.message.text) for r in replies]
        title = tr.gettext(N_("Stance recorded")) if recorded else \
            tr.gettext(N_("Nothing was recorded"))
        return _page(200 if recorded else 403, "done.html", lang=tr.language, title=title,
                     lines=lines)

    async def cast(request: Request) -> HTMLResponse:
        poll_id = int(request.path_params["poll_id"])
        if not same_origin(request, bot.settings.http.public_url()):
            return _refused(default, LinkRefused("cross-origin", N_(
                "This vote did not come from the confirmation page, so nothing was "
                "recorded. Open the link from the email again and confirm there.")))
        form = await request.form()
        token = str(form.get("t") or "")
        if form.get("confirm") != "yes":
            return _refused(default, LinkRefused("unconfirmed", N_(
                "Nothing was recorded: confirm your stance with the button on the page that "
                "the link opens.")))
        reason = str(form.get("reason") or "")
        return await run_in_threadpool(cast_sync, poll_id, token, reason)

    return [Route("/polls/{poll_id:int}/vote", _guard(show, default), methods=["GET"]),
            Route("/polls/{poll_id:int}/vote", _guard_async(cast, default), methods=["POST"])]


def _guard(fn: Callable[[Request], HTMLResponse], tr: Translator
           ) -> Callable[[Request], HTMLResponse]:
    """``fn``, answering 503 with a sentence while the database is unreachable."""
    def page(request: Request) -> HTMLResponse:
        try:
            return fn(request)
        except (OperationalError, DBAPIError):
            log.warning("vote link page: database unreachable", exc_info=True)
            return _unavailable(tr)
    return page


def _guard_async(fn: Callable[[Request], Awaitable[HTMLResponse]], tr: Translator
                 ) -> Callable[[Request], Awaitable[HTMLResponse]]:
    async def page(request: Request) -> HTMLResponse:
        try:
            return await fn(request)
        except (OperationalError, DBAPIError):
            log.warning("vote link POST: database unreachable", exc_info=True)
            return _unavailable(tr)
    return page


def install(reg: Registry) -> None:
    """Register the vote-link routes and keep tokens out of the access log."""
    reg.web_routes(vote_routes)
    redact_access_log()
