"""The ``workshops.tick`` job: send due reminders (rows with due times)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.workshops.reminders import send_due

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


def tick(bot: Bot) -> int:
    """Send every due workshop and action-item reminder once; returns how many."""
    n = send_due(bot.session_factory, bot.settings)
    if n:
        log.info("workshops: %d reminder(s) queued", n)
    return n
