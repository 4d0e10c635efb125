"""Money for co-funding pledges: ISO 4217 currencies, Decimal amounts, minor units.

Amounts are :class:`decimal.Decimal` in the core and integers of minor units
in the database (12.50 EUR is 1250; 1500 JPY is 1500; 1.250 BHD is 1250), so
no float ever touches them and SQL can sum them exactly on SQLite and
PostgreSQL alike. The number of decimals per currency and the display come
from Babel (CLDR). Totals are kept per currency and never added across
currencies: there is no exchange rate here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    is_currency,
    parse_decimal,
)

from bot.errors import N_, InvalidInput

#: ISO 4217 codes that are not money one can pledge (test, no-currency, metals,
#: special drawing rights and settlement units).
NOT_PLEDGEABLE = frozenset({"XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB",
                            "XBC", "XBD", "XSU", "XUA"})
#: The largest amount accepted, in major units (a typo guard, not a policy).
MAX_MAJOR = Decimal("1000000000")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")


def currency_code(raw: str) -> str:
    """An ISO 4217 code (``eur`` -> ``EUR``). Raises InvalidInput naming the fix."""
    code = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code) or code in NOT_PLEDGEABLE or not is_currency(code):
        raise InvalidInput(N_("{code!r} is not a currency: use an ISO 4217 code such as EUR, "
                              "USD or COP."), code=raw.strip())
    return code


def decimals(currency: str) -> int:
    """How many decimals ``currency`` has (EUR 2, JPY 0, BHD 3), from CLDR."""
    return int(get_currency_precision(currency))


def parse_amount(raw: str, *, currency: str, language: str = "en") -> Decimal:
    """A positive amount of ``currency``: ``1500``, ``1500.50``, or written the
    way ``language`` writes numbers (``1 500,50`` in French). Raises InvalidInput
    for text that is not a number, zero or less, too large, or with more decimals
    than the currency has (``12.345 EUR``)."""
    # Spaces (plain, no-break, narrow no-break) only ever group digits.
    text = re.sub(r"[\s\u00a0\u202f_]", "", raw)
    try:
        if _PLAIN.match(text):
            value = Decimal(text)
        else:
            value = parse_decimal(text, locale=language, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise InvalidInput(N_("I cannot read the amount {text!r}: write a number such as "
                              "1500 or 1500.50."), text=raw.strip()) from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(N_("A pledge must be more than zero."))
    if value > MAX_MAJOR:
        raise InvalidInput(N_("That amount is too large; check it and write it again."))
    places = decimals(currency)
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(N_("{currency} has {places} decimal places; round the amount "
                              "{text} to them."), currency=currency, places=places,
                           text=raw.strip())
    return value


def to_minor(amount: Decimal, currency: str) -> int:
    """``amount`` in minor units of ``currency`` (exact; raises ValueError if not)."""
    scaled = amount.scaleb(decimals(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency}")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units of ``currency`` back to a Decimal amount (1250 EUR -> 12.50)."""
    places = decimals(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def format_money(minor: int, currency: str, language: str) -> str:
    """``minor`` units of ``currency`` for a reader of ``language`` (Babel:
    ``1 500,00 €`` in French, ``US$1,500.00`` ... as CLDR says)."""
    return str(format_currency(from_minor(minor, currency), currency, locale=language))


def totals(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Sum ``(currency, minor)`` pairs per currency, never across currencies."""
    out: dict[str, int] = {}
    for currency, minor in rows:
        out[currency] = out.get(currency, 0) + int(minor)
    return dict(sorted(out.items()))


def format_totals(by_currency: Mapping[str, int], language: str) -> str:
    """``1 500,00 € · 200,00 $US``: one amount per currency, side by side."""
    return " · ".join(format_money(m, c, language) for c, m in sorted(by_currency.items()))
