"""The press-review section of a person's home page: the latest digest's summary."""

from __future__ import annotations

from sqlalchemy import select

from bot.digest.service import summary_message
from bot.errors import PermissionDenied
from bot.permissions import authorize
from bot.registry import HomeContext
from bot.types import Block, Header, SmallPrint
from storage.models import Digest


def digest_section(ctx: HomeContext) -> list[Block]:
    """The latest sent press review, in the person's language (or a line saying none yet)."""
    try:
        authorize(session=ctx.session, person=ctx.person, capability="digest.view",
                  channel="web")
    except PermissionDenied:
        return []
    digest = ctx.session.scalars(select(Digest).where(Digest.status == "sent")
                                 .order_by(Digest.week.desc())).first()
    title = Header(ctx._("Press review"))
    if digest is None:
        return [title, SmallPrint(ctx._("No press review has been sent yet."))]
    message = summary_message(ctx.settings, digest, ctx.tr.language)
    return [title, *message.blocks][:20]
