"""Reading a roster CSV: one validated :class:`RosterRow` per line, or a
:class:`RosterError` listing every problem (line, column, what to fix). Nothing
is written here; bot/roster.py imports the rows."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import N_, InvalidInput
from bot.i18n import SUPPORTED, Translator
from bot.members import normalise_email
from storage.models import Role

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
COLUMNS = ("email", "name", "organisation", "role", "group", "language", "timezone")
#: Optional columns: ``interests`` holds scope-topic keys separated by ``;``
#: (``soil_measurement;carbon_markets``), matched against innovation sprints.
OPTIONAL = ("interests",)

@dataclass(frozen=True, slots=True)
class RosterProblem:
    """One bad cell: ``line`` is 1-based in the file (the header is line 1);
    ``msgid`` a gettext msgid filled from ``params`` (:meth:`render`)."""

    line: int
    field: str
    msgid: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def message(self) -> str:
        """The problem in English."""
        return self.msgid.format(**dict(self.params))

    def render(self, tr: Translator) -> str:
        """``line N, field: problem`` in ``tr``'s language."""
        return tr.gettext(N_("line {line}, {field}: {problem}"), line=self.line,
                          field=self.field, problem=tr.gettext(self.msgid,
                                                               **dict(self.params)))

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


def problem(line: int, field: str, msgid: str, **params: object) -> RosterProblem:
    return RosterProblem(line, field, msgid, tuple((k, str(v)) for k, v in params.items()))


class RosterError(InvalidInput):
    """The roster file has problems; nothing of it was applied."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        super().__init__(N_("The roster has {n} problem(s); nothing was changed."),
                         n=len(problems))
        self.problems = problems

    def __str__(self) -> str:
        return "roster not imported, nothing changed:\n" + "\n".join(
            f"  {p}" for p in self.problems)


@dataclass(frozen=True, slots=True)
class RosterRow:
    """A validated roster row."""

    line: int
    email: str
    name: str
    organisation: str
    roles: tuple[Role, ...]
    group: str
    language: str
    timezone: str
    interests: tuple[str, ...] = ()


def parse_roster(text: str) -> list[RosterRow]:
    """Validate a roster CSV. Raises RosterError listing every problem with its
    line and field (unknown role, bad zone, bad address, bad language, duplicate
    person-and-group row, conflicting details for one person)."""
    problems: list[RosterProblem] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError([problem(1, ", ".join(missing), N_(
            "missing column(s); expected {columns}"), columns=", ".join(COLUMNS))])
    reader.fieldnames = header
    rows: list[RosterRow] = []
    seen: dict[tuple[str, str], int] = {}
    details: dict[str, tuple[int, str, str, str, str]] = {}
    zones_ok: dict[str, bool] = {}
    for record in reader:
        line = reader.line_num
        cell = {k: (v or "").strip() for k, v in record.items() if k}
        if not any(cell.values()):
            continue
        bad = len(problems)
        try:
            email = normalise_email(cell["email"])
        except ValueError as exc:
            problems.append(problem(line, "email", N_(
                "{value!r} is not a valid address ({reason})"), value=cell["email"],
                reason=exc))
            email = cell["email"].lower()
        for col in ("name", "organisation", "group"):
            if _CONTROL.search(cell[col]):
                problems.append(problem(line, col, N_(
                    "holds a control character; write it as plain text on one line")))
        if not cell["name"]:
            problems.append(problem(line, "name", N_("is empty; give the person's name")))
        roles: list[Role] = []
        for raw in filter(None, (r.strip().lower() for r in cell["role"].split(";"))):
            try:
                roles.append(Role(raw))
            except ValueError:
                problems.append(problem(line, "role", N_(
                    "unknown role {value!r}; use member, observer, secretariat or chair"),
                    value=raw))
        if not cell["role"]:
            problems.append(problem(line, "role", N_("is empty; use member, observer, "
                                                      "secretariat or chair")))
        if not cell["group"]:
            problems.append(problem(line, "group", N_("is empty; name the group")))
        lang = (cell["language"] or "en").lower()
        if lang not in SUPPORTED:
            problems.append(problem(line, "language", N_(
                "{value!r} is not supported; use {choices}"), value=lang,
                choices=", ".join(SUPPORTED)))
        tz = cell["timezone"] or "UTC"
        if tz not in zones_ok:
            try:
                ZoneInfo(tz)
                zones_ok[tz] = True
            except (ZoneInfoNotFoundError, ValueError):
                zones_ok[tz] = False
        if not zones_ok[tz]:
            problems.append(problem(line, "timezone", N_(
                "{value!r} is not an IANA time zone (e.g. Europe/Paris, America/Bogota)"),
                value=tz))
        key = (email, cell["group"].lower())
        if key in seen:
            problems.append(problem(line, "group", N_(
                "duplicate: {email} is already in {group!r} on line {first}"), email=email,
                group=cell["group"], first=seen[key]))
        else:
            seen[key] = line
        mine = (line, cell["name"], cell["organisation"], lang, tz)
        if email in details and details[email][1:] != mine[1:]:
            first = details[email][0]
            problems.append(problem(
                line, "name/organisation/language/timezone", N_(
                    "differ from line {first} for the same person {email}; make them "
                    "match"), first=first, email=email))
        details.setdefault(email, mine)
        interests: list[str] = []
        for raw in filter(None, (t.strip().lower() for t in cell.get("interests", "").split(";"))):
            if raw not in _topics():
                problems.append(RosterProblem(line, "interests", f"unknown topic {raw!r}; use "
                                              + ", ".join(_topics())))
            elif raw not in interests:
                interests.append(raw)
        if len(problems) == bad:
            rows.append(RosterRow(line, email, cell["name"], cell["organisation"],
                                  tuple(dict.fromkeys(roles)), cell["group"], lang, tz,
                                  tuple(interests)))
    if problems:
        raise RosterError(problems)
    return rows


def _topics() -> tuple[str, ...]:
    from digests.taxonomy import load_taxonomy

    return tuple(t.key for t in load_taxonomy().topics)
