"""The pages behind sprint links (Starlette, registered with ``reg.web_routes``).

``GET /sprints/offers/{id}?t=TOKEN`` shows the offer with Accept and Decline
and changes nothing (a mail scanner that follows links takes no seat);
``POST`` answers it, and needs the token and ``choice`` in the form body and
a same-origin request (``Origin``, else ``Referer``, matching this site).
``/sprints/{id}/join`` does the same for the sign-up link of an
announcement. A refused link gets a page that says why (tampered, expired,
used, cancelled, not allowed, cross-site), in the language of the person a
validly signed token names (the default language for a forged one). Tokens
are never logged: the
access log's query strings are redacted. Every value is escaped by Jinja2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bot import formatting
from bot.errors import N_
from bot.i18n import Translator, translator
from bot.pages import render_page
from bot.sprints.common import closing_text, day_text
from bot.sprints.links import CHOOSE, LinkView, check_join, check_offer, use_join, use_offer
from bot.sprints.tokens import Purpose, person_of
from bot.tokens import LinkRefused
from bot.types import Reply, plain_times
from bot.web import language_of, read_form, redact_access_log, same_origin
from storage.models import Sprint, SprintOffer

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.registry import Registry

STATUS = {"tampered": 400, "expired": 410, "cancelled": 410, "used": 409, "not-allowed": 403,
          "cross-site": 403}

_TEMPLATES = str(Path(__file__).parent / "templates")


def _page(status: int, name: str = "refused.html", **ctx: Any) -> HTMLResponse:
    return render_page(name, status=status, folder=_TEMPLATES, **ctx)


def facts(bot: Bot, view: LinkView, *, offer_id: int | None = None) -> list[tuple[str, str]]:
    """What a person needs to decide on a sprint link, in their language and
    zone: the sprint's dates, when sign-ups close and, for an offer, until
    when the seat is held."""
    tr = translator(view.language)
    with bot.session_factory() as session:
        sprint = session.get(Sprint, view.sprint_id)
        if sprint is None:
            return []
        # The same words as the sprint's message (bot/sprints/render.py).
        out = [(tr.gettext(N_("Dates")), tr.gettext(
                    N_("{first} to {last}"), first=day_text(sprint.starts_on, tr.language),
                    last=day_text(sprint.ends_on, tr.language))),
               (tr.gettext(N_("Sign-ups close")), closing_text(sprint, tr, view.timezone))]
        offer = session.get(SprintOffer, offer_id) if offer_id is not None else None
        if offer is not None:
            out.append((tr.gettext(N_("The seat is held until")), formatting.moment(
                offer.expires_at, zone=view.timezone, language=view.language)))
    return out


def _refused(tr: Translator, exc: LinkRefused) -> HTMLResponse:
    return _page(STATUS.get(exc.code, 400), lang=tr.language, code=exc.code,
                 title=tr.gettext(N_("This link cannot be used")),
                 message=tr.gettext(exc.reason, **exc.params),
                 way_back=tr.gettext(N_("In chat, 'sprint list' shows the sprints and your "
                                        "place in them; the secretariat can help too.")))


def _done(view: LinkView, recorded: bool, replies: list[Any]) -> HTMLResponse:
    tr = translator(view.language)
    lines = [plain_times(r.message.text) for r in replies]
    title = tr.gettext(N_("Done")) if recorded else tr.gettext(N_("Nothing was recorded"))
    return _page(200 if recorded else 403, "done.html", lang=tr.language, title=title,
                 lines=lines)


def _link_routes(bot: Bot, *, purpose: Purpose, path: str,
                 check: Callable[[str, int], LinkView],
                 use: Callable[[str, int, str], tuple[bool, list[Reply]]], intro: str,
                 choices: tuple[tuple[str, str], ...], press: str) -> list[Route]:
    """GET (show, changes nothing) and POST (act) of one kind of link at
    ``path`` (its ``{target:int}`` the offer or sprint id), whose tokens are
    signed for ``purpose``. ``check(token, target)`` verifies the link;
    ``use(token, target, choice)`` acts through the core; ``intro`` and each
    choice's label are msgids; ``press`` is the reason given when the POST
    names no choice of the page's."""
    public = bot.settings.http.public_url()

    def signed(token: str) -> int | None:
        return person_of(token, key=bot.settings.signing_key(), purpose=purpose)

    def refused(exc: LinkRefused) -> HTMLResponse:
        return _refused(translator(language_of(bot, exc.person_id)), exc)

    def show(request: Request) -> HTMLResponse:
        target, token = int(request.path_params["target"]), request.query_params.get("t", "")
        try:
            view = check(token, target)
        except LinkRefused as exc:
            return refused(exc)
        tr = translator(view.language)
        return _page(200, "sprint_link.html", lang=tr.language, token=token,
                     action=request.url.path,
                     facts=facts(bot, view, offer_id=target if purpose == "offer" else None),
                     title=tr.gettext(N_("Sprint #{id}: {title}"), id=view.sprint_id,
                                      title=view.title),
                     intro=tr.gettext(intro, name=view.person_name),
                     choices=[(value, tr.gettext(label)) for value, label in choices])

    def act(target: int, token: str, choice: str, *, cross_site: bool) -> HTMLResponse:
        # In the thread pool: the checks, the core and the refusal's language
        # all read the database.
        try:
            if cross_site:
                raise LinkRefused("cross-site", N_("This form must be sent from its own page; "
                                                   "open the link from the email again."),
                                  person_id=signed(token))
            if not token or choice not in {value for value, _ in choices}:
                raise LinkRefused("tampered", press, person_id=signed(token))
            view = check(token, target)
            recorded, replies = use(token, target, choice)
        except LinkRefused as exc:
            return refused(exc)
        return _done(view, recorded, replies)

    async def post(request: Request) -> HTMLResponse:
        target = int(request.path_params["target"])
        cross_site = not same_origin(request, public)
        form = await read_form(request)
        token, choice = str(form.get("t") or ""), str(form.get("choice") or "")
        return await run_in_threadpool(act, target, token, choice, cross_site=cross_site)

    return [Route(path, show, methods=["GET"]), Route(path, post, methods=["POST"])]


def sprint_routes(bot: Bot) -> list[Route]:
    """GET (show) and POST (act) routes of offer and sign-up links."""
    offer = _link_routes(
        bot, purpose="offer", path="/sprints/offers/{target:int}",
        check=lambda token, oid: check_offer(bot, token=token, offer_id=oid),
        use=lambda token, oid, choice: use_offer(bot, token=token, offer_id=oid,
                                                 choice=choice),
        intro=N_("{name}, a seat is held for you. Take it?"),
        choices=(("accept", N_("Accept the seat")), ("decline", N_("Decline it"))),
        press=CHOOSE)
    join = _link_routes(
        bot, purpose="join", path="/sprints/{target:int}/join",
        check=lambda token, sid: check_join(bot, token=token, sprint_id=sid),
        use=lambda token, sid, _choice: use_join(bot, token=token, sprint_id=sid),
        intro=N_("{name}, sign up for this sprint?"), choices=(("join", N_("Sign up")),),
        press=N_("Press the sign-up button on the page."))
    return offer + join


def install_pages(reg: Registry) -> None:
    """Register the link pages and redact tokens from the
    HTTP access log (once per process)."""
    reg.web_routes(sprint_routes)
    redact_access_log()
