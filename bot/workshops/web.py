"""Workshop pages on the HTTP app (Starlette).

- ``GET /workshops/{id}/availability?t=TOKEN``: the person's grid of candidate
  slots in their own zone (named); ``POST`` (the token and ``form`` fields in
  the body, same origin) stores the answers through ``Bot.dispatch``.
- ``GET /workshops/{id}/rsvp?t=TOKEN``: confirm an RSVP from the invite email
  (GET changes nothing, so mail scanners that follow links answer nothing);
  ``POST`` records it.
- ``GET /workshops/feed/{token}.ics``: a person's calendar (with join links);
  ``GET /workshops/feed.ics``: the public one (without). ETag/Last-Modified.

A refused link gets a page that says why. Tokens are never logged
(:func:`bot.web.redact_access_log` blanks ``t=`` values and feed paths).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.errors import N_
from bot.i18n import translator
from bot.pages import render_page
from bot.tokens import LinkRefused, digest
from bot.types import Actor, ButtonPress, Conversation, FormSubmission, plain_times
from bot.web import language_of, redact_access_log
from bot.workshops import feeds, tokens
from bot.workshops.render import ANSWER_LABELS, RSVP_LABELS, local_text
from storage.base import utcnow
from storage.models import Person, Workshop, WorkshopAvailability, WorkshopSlot

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)
STATUS = {"tampered": 400, "other-workshop": 400, "expired": 410, "not-allowed": 403,
          "cross-origin": 403, "revoked": 410}
#: Pages carry :data:`bot.pages.PAGE_HEADERS`: ``Referrer-Policy: same-origin``,
#: not ``no-referrer``, under which a browser sends ``Origin: null`` with the
#: page's own form post, which _same_origin refuses (found by
#: tests/workshops/test_availability_browser.py).


_TEMPLATES = str(Path(__file__).parent / "templates")


def _page(name: str, status: int, **ctx: Any) -> HTMLResponse:
    return render_page(name, status=status, folder=_TEMPLATES, **ctx)


def _refused(bot: Bot, name: str, exc: LinkRefused) -> HTMLResponse:
    """The page of a refused link, in the language of the person a validly
    signed token names (the default language otherwise)."""
    tr = translator(language_of(bot, exc.person_id))
    return _page(name, STATUS.get(exc.code, 400), lang=tr.language, refused=True,
                 code=exc.code, title=tr.gettext(N_("This link cannot be used")),
                 message=tr.gettext(exc.reason, **exc.params),
                 way_back=tr.gettext(N_("In chat, 'workshop list' shows the workshops; "
                                        "'workshop slots ID' and 'workshop rsvp ID' answer "
                                        "there too.")))


def _same_origin(request: Request, bot: Bot) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    if not origin:
        return True  # browsers that send neither (privacy settings); the token still binds
    got = urlsplit(origin)
    allowed = {urlsplit(bot.settings.http.public_url()).netloc, request.url.netloc}
    return got.netloc in allowed


def _load(bot: Bot, token: str, wid: int, purpose: str
          ) -> tuple[tokens.LinkData, Person, Workshop]:
    link = tokens.verify(token, key=bot.settings.signing_key(), purpose=purpose, now=utcnow(),
                         workshop_id=wid)
    with bot.session_factory() as session:
        person = session.get(Person, link.person_id)
        ws = session.get(Workshop, wid)
        if person is None or ws is None or not person.primary_email:
            raise LinkRefused("not-allowed", N_("This link no longer matches anyone in "
                                                "the roster, so it cannot be used."),
                              person_id=person.id if person is not None else None)
        session.expunge_all()
        return link, person, ws


def _grid(bot: Bot, person: Person, ws: Workshop, *, saved: str = "",
          token: str) -> HTMLResponse:
    tr = translator(person.language)
    with bot.session_factory() as session:
        slots = session.execute(_slots_q(ws.id)).all()
        mine = {sid: a for sid, a in session.execute(_answers_q(ws.id, person.id)).all()}
    rows = [{"id": sid, "utc": start.isoformat(), "answer": mine.get(sid, ""),
             "local": local_text(start, person.timezone, person.language)}
            for sid, start in slots]
    return _page("availability.html", 200, lang=person.language, refused=False, slots=rows,
                 title=tr.gettext(N_("Workshop #{id}: {title}"), id=ws.id, title=ws.title),
                 intro=tr.gettext(N_("{name}, can you come at these times?"), name=person.name),
                 zone_note=tr.gettext(N_("Times are shown in your time zone, {zone}."),
                                      zone=person.timezone),
                 when_label=tr.gettext(N_("When")), answer_label=tr.gettext(N_("Your answer")),
                 choices=[(k, tr.gettext(v)) for k, v in ANSWER_LABELS.items()],
                 save_label=tr.gettext(N_("Save my answers")), saved=saved, token=token,
                 action=f"/workshops/{ws.id}/availability")


def _slots_q(wid: int) -> Any:
    from sqlalchemy import select

    return select(WorkshopSlot.id, WorkshopSlot.starts_at).where(
        WorkshopSlot.workshop_id == wid).order_by(WorkshopSlot.starts_at)


def _answers_q(wid: int, pid: int) -> Any:
    from sqlalchemy import select

    return select(WorkshopAvailability.slot_id, WorkshopAvailability.answer).join(
        WorkshopSlot, WorkshopSlot.id == WorkshopAvailability.slot_id).where(
        WorkshopSlot.workshop_id == wid, WorkshopAvailability.person_id == pid)


def workshop_routes(bot: Bot) -> list[Route]:
    """The availability, RSVP-link and feed routes."""
    redact_access_log()

    def show(request: Request) -> HTMLResponse:
        wid = int(request.path_params["wid"])
        token = request.query_params.get("t", "")
        try:
            _link, person, ws = _load(bot, token, wid, "availability")
        except LinkRefused as exc:
            return _refused(bot, "availability.html", exc)
        return _grid(bot, person, ws, token=token)

    async def save(request: Request) -> HTMLResponse:
        wid = int(request.path_params["wid"])
        form = await request.form()
        token = str(form.get("t") or "")
        try:
            if form.get("form") != "availability" or not _same_origin(request, bot):
                raise LinkRefused("cross-origin", N_("This form must be sent from its "
                                                     "own page; nothing was saved."))
            _link, person, ws = await run_in_threadpool(_load, bot, token, wid, "availability")
        except LinkRefused as exc:
            return _refused(bot, "availability.html", exc)
        values = tuple((str(k), str(v)) for k, v in form.multi_items()
                       if str(k).startswith("slot-"))
        assert person.primary_email
        event = FormSubmission("workshop.availability", values,
                               Actor("web", "", person.primary_email),
                               Conversation("web", "", "availability", is_direct=True),
                               f"availability:{digest(token)}:{uuid.uuid4().hex}",
                               context=str(wid))
        replies = await run_in_threadpool(bot.dispatch, event)
        saved = " ".join(plain_times(r.message.text) for r in replies)
        return await run_in_threadpool(_grid, bot, person, ws, saved=saved, token=token)

    def rsvp_show(request: Request) -> HTMLResponse:
        wid = int(request.path_params["wid"])
        token = request.query_params.get("t", "")
        try:
            link, person, ws = _load(bot, token, wid, "rsvp")
        except LinkRefused as exc:
            return _refused(bot, "confirm.html", exc)
        tr = translator(person.language)
        label = tr.gettext(RSVP_LABELS.get(link.answer, link.answer))
        when = local_text(ws.starts_at, person.timezone, person.language) if ws.starts_at \
            else ""
        return _page("confirm.html", 200, lang=tr.language, refused=False, done=False,
                     token=token, action=f"/workshops/{wid}/rsvp",
                     title=tr.gettext(N_("Workshop #{id}: {title}"), id=ws.id, title=ws.title),
                     intro=tr.gettext(N_("{name}, confirm your answer for {when}: {answer}."),
                                      name=person.name, when=when, answer=label),
                     facts=[(tr.gettext(N_("When")), when),
                            (tr.gettext(N_("Your time zone")), person.timezone)],
                     confirm=tr.gettext(N_("Confirm: {answer}"), answer=label))

    async def rsvp_post(request: Request) -> HTMLResponse:
        wid = int(request.path_params["wid"])
        form = await request.form()
        token = str(form.get("t") or "")
        try:
            if not _same_origin(request, bot):
                raise LinkRefused("cross-origin", N_("This form must be sent from its "
                                                     "own page; nothing was saved."))
            link, person, ws = await run_in_threadpool(_load, bot, token, wid, "rsvp")
        except LinkRefused as exc:
            return _refused(bot, "confirm.html", exc)
        assert person.primary_email
        event = ButtonPress("workshop.rsvp", f"{wid}:{link.answer}",
                            Actor("web", "", person.primary_email),
                            Conversation("web", "", "rsvp-link", is_direct=True),
                            f"rsvp-link:{digest(token)}:{uuid.uuid4().hex}")
        replies = await run_in_threadpool(bot.dispatch, event)
        tr = translator(person.language)
        return _page("confirm.html", 200, lang=tr.language, refused=False, done=True,
                     title=tr.gettext(N_("Workshop #{id}: {title}"), id=ws.id, title=ws.title),
                     lines=[plain_times(r.message.text) for r in replies])

    def feed(request: Request) -> Response:
        token = str(request.path_params.get("token", ""))
        return feeds.feed_response(bot, request, token=token or None)

    return [Route("/workshops/{wid:int}/availability", show, methods=["GET"]),
            Route("/workshops/{wid:int}/availability", save, methods=["POST"]),
            Route("/workshops/{wid:int}/rsvp", rsvp_show, methods=["GET"]),
            Route("/workshops/{wid:int}/rsvp", rsvp_post, methods=["POST"]),
            Route("/workshops/feed.ics", feed, methods=["GET"]),
            Route("/workshops/feed/{token}.ics", feed, methods=["GET"])]
