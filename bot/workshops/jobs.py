"""The workshops' jobs: ``workshops.tick`` sends due reminders (rows with due
times); ``workshops.agenda`` circulates agendas that are due."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.workshops.agenda import circulate_due
from bot.workshops.reminders import send_due
from storage.base import utcnow

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)


def tick(bot: Bot) -> int:
    """Send every due workshop and action-item reminder once; returns how many."""
    n = send_due(bot.session_factory, bot.settings)
    if n:
        log.info("workshops: %d reminder(s) queued", n)
    return n


def agenda(bot: Bot) -> int:
    """Circulate every agenda due ``agenda_days`` before its workshop, once;
    returns how many emails were queued."""
    n = circulate_due(bot.session_factory, bot.settings, now=utcnow())
    if n:
        log.info("workshops: %d agenda email(s) queued", n)
    return n
