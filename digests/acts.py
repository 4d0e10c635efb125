"""Legislative acts and their milestones, as an editor tells one event of a
law from another: the official number of an act ("Directive (EU)
2025/2360", "Regulation (EU) 2024/3012", "Décret n° 2022-1234", "Real
Decreto 1051/2022") and the step it reached (proposal, provisional
agreement, adoption by a body, publication in the official journal, entry
into force), read in en, fr and es (:mod:`digests.related` compares them).

A method's code (VM0042) is no act: many items cite one method."""

from __future__ import annotations

import re
from datetime import date, timedelta

from digests.classify import fold
from digests.dates import written_dates

#: The kinds of act an official number belongs to, in en, fr and es
#: (accent-folded, lower case): "Reglamento", "règlement", "regulation" alike.
_KIND = (r"(?:delegated |implementing |delegue |de execution |delegado |de ejecucion )?"
         r"(?:regulation|directive|decision|directiva|reglamento|decision|reglement|"
         r"decret|decree|decreto|real decreto|ley|loi|law|arrete|orden|ordonnance)")
#: "(EU) 2025/2360", "EU 2025/2360", "(UE) n° 2018/841", "(CE) No 1107/2009".
_EU = r"\(?(?:eu|ue|ce|ec|eu,? euratom)\)?"
_NO = r"(?:n[°ºo]\.?|no\.?|num\.?|nr\.?)?"
_ACT = re.compile(
    rf"\b(?P<kind>{_KIND})\s+(?P<of>{_EU}\s+)?{_NO}\s*(?P<a>\d{{1,4}})\s*[/-]\s*(?P<b>\d{{1,5}})\b"
    rf"|(?<![\w/])(?P<eu>{_EU})\s+{_NO}\s*(?P<c>(?:19|20)\d\d)\s*/\s*(?P<d>\d{{1,5}})\b")
_YEAR = re.compile(r"(?:19|20)\d\d")


def act_numbers(text: str) -> set[str]:
    """The official numbers of acts that ``text`` cites, one key per act in
    any language: "EU 2025/2360" for an EU act (its Official Journal number:
    one sequence for every kind since 2015, so "Directive (EU) 2025/2360"
    and "(UE) 2025/2360" agree), else "<year>/<number>" of a national act
    ("Real Decreto 1051/2022", "Décret n° 2022-1234"). A number with no
    year in it ("Ley 7", "VM0042") is none."""
    out = set()
    for m in _ACT.finditer(fold(text).lower()):
        if m.group("eu"):
            out.add(f"EU {m.group('c')}/{int(m.group('d'))}")
            continue
        a, b = m.group("a"), m.group("b")
        if _YEAR.fullmatch(a):
            year, num = a, b
        elif _YEAR.fullmatch(b):
            year, num = b, a
        else:
            continue
        out.add(f"{'EU ' if m.group('of') else ''}{year}/{int(num)}")
    return out


def law_acts(title: str, texts: list[str], step: str) -> set[str]:
    """The act numbers of ``texts`` (:func:`act_numbers`) when the act is
    what the item is about: its ``title`` names a law or an act's number,
    or it reports a law's ``step`` (:func:`milestone`); else none (an item
    that cites a regulation in passing is no report on it)."""
    if not step and not _LAW.search(fold(title).lower()) and not act_numbers(title):
        return set()
    return set().union(*(act_numbers(t) for t in texts))


#: Words that name a law (an instrument), in en, fr and es.
_LAW = re.compile(r"\b(?:laws?|directives?|regulations?|bills?|leyes|ley|directivas?|"
                  r"reglamentos?|lois?|reglements?|decrets?|decrees?|decretos?)\b")

#: A law's step named in words used of laws alone ("provisional agreement",
#: "trilogue"): a law's news even when the item does not say "law".
_LEGISLATIVE = re.compile(r"provisional (?:political )?(?:agreement|deal)"
                          r"|accord (?:politique )?provisoire|acuerdo (?:politico )?provisional"
                          r"|negotiating mandate|mandat de negociation|mandato de negociacion")

#: The milestones of a law, in the order a law reaches them; each with its
#: words in en, fr and es (accent-folded, lower case).
MILESTONES: tuple[tuple[str, str], ...] = (
    ("proposal", r"propos(?:al|ition) (?:for|of|de) (?:an? |une? |la |el )?"
                 r"(?:new |nouvelle? |nuevo |nueva )?(?:eu |ue |european |europeenne? |europeo "
                 r"|europea )?"
                 r"(?:law|directive|regulation|directiva|reglamento|ley|loi|reglement)"
                 r"|propuesta de (?:una? )?(?:nueva )?(?:directiva|reglamento|ley)"
                 r"|propos(?:es|ed|e) (?:an? |une? |la |el )?(?:new |nouvelle? )?"
                 r"(?:eu |european )?(?:law|directive|regulation|loi|reglement)"
                 r"|propone (?:una? )?(?:nueva )?(?:directiva|reglamento|ley)"),
    ("mandate", r"(?:(?:adopt|agree|approv|aprob|arret)\w* (?:its |their |a |the |su |son |sa )?"
                r"(?:own )?)?(?:negotiating (?:mandate|position)|general approach"
                r"|mandat de negociation|orientation generale|mandato de negociacion"
                r"|enfoque general)"),
    ("consultation", r"\bconsultation\b|consulta publica|call for (?:feedback|evidence)"
                     r"|appel a contributions"),
    ("agreement", r"provisional (?:political )?(?:agreement|deal)|trilogues?\b|trilogo"
                  r"|(?:reach|strike|struck|clinch)\w* (?:a |an |the )?(?:\w+ )?"
                  r"(?:agreement|deal)|accord (?:\w+ )?(?:provisoire|politique|en trilogue)"
                  r"|(?:parvenu|parviennent|trouve|conclu|scelle)\w* (?:a )?un (?:\w+ )?accord"
                  r"|acuerdo (?:\w+ )?(?:provisional|politico|en el trilogo)"
                  r"|(?:alcanz|logr|cerr|sell)\w* (?:\w+ )?un (?:\w+ )?acuerdo"
                  r"|(?:agreement|deal|accord|acuerdo)\b[^.;]{0,40}\b(?:between|entre) "
                  r"(?:the |le |el |les |los )?(?:european |europeen |europeo )?"
                  r"(?:parliament|parlement|parlamento|council|conseil|consejo|eu|ue"
                  r"|member states|etats|estados)"),
    ("adoption", r"\badopt(?:s|ed|ion|e|ee|ees|es|ent|a|o|ada|ado|an|aron)?\b"
                 r"|\bvot(?:e|es|ed|ee|ent|a|o|aron|acion)\b|final approval|\bapprov(?:es|ed)\b"
                 r"|\bapprouv\w*|\baprueba\w*|\baprob(?:o|ada|ado|aron|acion)\b"),
    ("publication", r"official journal|journal officiel|\bjoue\b|\bdoue\b|diario oficial"
                    r"|boletin oficial del estado|\bboe\b|\bjorf\b"),
    ("in force", r"(?:enters?|entered|entering|entry|come|comes|came) into force"
                 r"|takes? effect|took effect|entree en vigueur|entre(?:ra)? en vigueur"
                 r"|entr(?:a|o|ara|ado) en vigor|entrada en vigor"),
)
_MILESTONE = re.compile("|".join(f"(?P<m{i}>{p})" for i, (_, p) in enumerate(MILESTONES)))
#: The bodies that adopt a law: an adoption by the Parliament and one by
#: the Council (or the member states) are two events.
_BODY = (("parliament", re.compile(r"parliament|parlement|parlamento|meps|eurodeput|"
                                   r"eurodiputad|plenary|pleniere|pleno|congres")),
         ("council", re.compile(r"council|conseil|consejo|member states|etats membres|"
                                r"estados miembros|ministers|ministres|ministros")))
_SENTENCE = re.compile(r"[^.!?;]+")


#: A step dated this many days or more before the item is its background
#: ("adopted by the Council on 29 September" in a November explainer), not its news.
HISTORY_DAYS = 21


def milestone(title: str, summary: str, *, published: date | None = None) -> str:
    """The step of a law an item reports ("" when it names no law or no
    step; a "provisional agreement" is a law's, law named or not): what
    its title says happened, else the first step its summary
    names (a lead says the news first, history after); a step dated
    ``HISTORY_DAYS`` or more before ``published`` (the item's day) is
    history, passed over. An adoption carries the body that adopted when
    its sentence names one ("adoption by parliament", "adoption by council")."""
    text = fold(f"{title} {summary}").lower()
    if not _LAW.search(text) and not _LEGISLATIVE.search(text):
        return ""
    for text in (title, summary):
        for sentence in _SENTENCE.findall(fold(text).lower()):
            for m in _MILESTONE.finditer(sentence):
                if _history(sentence, m.start(), published) or _AHEAD.search(
                        sentence[max(0, m.start() - 60):m.start()]):
                    continue
                kind = MILESTONES[int(next(k for k, v in m.groupdict().items() if v)[1:])][0]
                if kind == "adoption":
                    by = _nearest_body(sentence, m.start())
                    return f"adoption by {by}" if by else kind
                return kind
    return ""


#: Words that put a step in the future ("ahead of the plenary vote"): not the news.
_AHEAD = re.compile(r"\b(?:ahead of|upcoming|expected|avant|antes de|prevu\w*|previst\w*)"
                    r"(?: the| le| la| el| del?)?(?: \w+){0,3} $")


def _history(sentence: str, at: int, published: date | None) -> bool:
    """True when the date nearest offset ``at`` of ``sentence`` is
    ``HISTORY_DAYS`` or more before ``published`` (a date without a year:
    the latest one not half a year after ``published``)."""
    found = written_dates(sentence)
    if published is None or not found:
        return False
    _at, day, month = min(found, key=lambda d: abs(d[0] - at))
    try:
        when = date(published.year, month, day)
        if when > published + timedelta(days=183):
            when = date(published.year - 1, month, day)
    except ValueError:  # 29 February, 31 April: no date
        return False
    return (published - when).days >= HISTORY_DAYS


def _nearest_body(sentence: str, at: int) -> str:
    best, where = "", len(sentence) + 1
    for name, pattern in _BODY:
        for m in pattern.finditer(sentence):
            if abs(m.start() - at) < where:
                best, where = name, abs(m.start() - at)
    return best


def same_milestone(a: str, b: str) -> bool:
    """True when two items' milestones (as :func:`milestone` gives them) are
    one step: equal, or an adoption whose body one of them does not say."""
    if not a or not b:
        return False
    return a == b or (a.startswith("adoption") and b.startswith("adoption")
                      and "adoption" in (a, b))


def other_milestones(a: str, b: str) -> bool:
    """True when both items name a step of a law and the steps differ (a
    publication and an adoption; an adoption by the Parliament and one by
    the Council): two events of one law, never one story."""
    return bool(a and b) and not same_milestone(a, b)
