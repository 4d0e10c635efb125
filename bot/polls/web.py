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

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot.errors import N_
from bot.i18n import Translator, negotiate, translator
from bot.pages import render_page
from bot.polls.links import LinkView, cast_by_link, check_link
from bot.polls.stances import STANCE_LABELS
from bot.polls.tokens import person_of
from bot.tokens import LinkRefused
from bot.types import plain_times
from bot.web import language_of, read_form, redact_access_log, same_origin

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.registry import Registry

log = logging.getLogger(__name__)

STATUS = {"tampered": 400, "other-poll": 400, "expired": 410, "closed": 410, "used": 409,
          "not-allowed": 403, "reason-needed": 422, "old-version": 409, "cross-origin": 403,
          "unconfirmed": 400}


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

    def reader(token: str, accept_language: str) -> Translator:
        """Who reads a refusal given before the link is checked: the person the
        token names, else the browser's language, else the default."""
        try:
            person = person_of(token, key=bot.settings.signing_key())
            if person is not None:
                return translator(language_of(bot, person))
        except (OperationalError, DBAPIError):
            pass
        return translator(negotiate(accept_language) or bot.settings.default_language)

    async def cast(request: Request) -> HTMLResponse:
        poll_id = int(request.path_params["poll_id"])
        # Bounded by the web guard (size) and read_form (fields); read first so
        # that a refusal speaks the language of the person the token names.
        form = await read_form(request)
        token = str(form.get("t") or "")
        if not same_origin(request, bot.settings.http.public_url()):
            tr = await run_in_threadpool(reader, token,
                                         request.headers.get("accept-language", ""))
            return _refused(tr, LinkRefused("cross-origin", N_(
                "This vote did not come from the confirmation page, so nothing was "
                "recorded. Open the link from the email again and confirm there.")))
        if form.get("confirm") != "yes":
            tr = await run_in_threadpool(reader, token,
                                         request.headers.get("accept-language", ""))
            return _refused(tr, LinkRefused("unconfirmed", N_(
                "Nothing was recorded: confirm your stance with the button on the page that "
                "the link opens.")))
        reason = str(form.get("reason") or "")
        return await run_in_threadpool(cast_sync, poll_id, token, reason)

    return [Route("/polls/{poll_id:int}/vote", _guard(show, default), methods=["GET"]),
            Route("/polls/{poll_id:int}/vote", _guard_async(cast, default), methods=["POST"])]


def _browser(request: Request, default: Translator) -> Translator:
    """The browser's language (``Accept-Language``) when nobody can be looked up."""
    found = negotiate(request.headers.get("accept-language", ""))
    return translator(found) if found else default


def _guard(fn: Callable[[Request], HTMLResponse], tr: Translator
           ) -> Callable[[Request], HTMLResponse]:
    """``fn``, answering 503 with a sentence while the database is unreachable."""
    def page(request: Request) -> HTMLResponse:
        try:
            return fn(request)
        except (OperationalError, DBAPIError):
            log.warning("vote link page: database unreachable", exc_info=True)
            return _unavailable(_browser(request, tr))
    return page


def _guard_async(fn: Callable[[Request], Awaitable[HTMLResponse]], tr: Translator
                 ) -> Callable[[Request], Awaitable[HTMLResponse]]:
    async def page(request: Request) -> HTMLResponse:
        try:
            return await fn(request)
        except (OperationalError, DBAPIError):
            log.warning("vote link POST: database unreachable", exc_info=True)
            return _unavailable(_browser(request, tr))
    return page


def install(reg: Registry) -> None:
    """Register the vote-link routes and keep tokens out of the access log."""
    reg.web_routes(vote_routes)
    redact_access_log()
