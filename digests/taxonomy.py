"""The press review's taxonomy: the nine scope topics of the alliance's terms
of reference and the three watch themes, with en/fr/es terms.

The secretariat replaces it with a TOML file (``[digest] taxonomy_file``) of
the same shape::

    [topics.carbon_markets]
    label = { en = "Carbon credit markets", fr = "Marchés du carbone", es = "..." }
    theme = "economic"
    terms = { en = ["carbon market", "carbon credit"], fr = ["marché du carbone"] }

    [themes.economic]
    label = { en = "Economic", fr = "Économique", es = "Económico" }
    terms = { en = ["investment"], fr = ["investissement"] }

Matching ignores case and accents and respects word boundaries; a term ending
in ``*`` matches any word ending (``séquestr*``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Category:
    """A topic or a theme: ``key``, labels per language, terms (all languages)."""

    key: str
    labels: dict[str, str]
    terms: tuple[str, ...]
    theme: str = ""

    def label(self, language: str) -> str:
        """The label in ``language`` (English when missing)."""
        return self.labels.get(language) or self.labels.get("en") or self.key


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The topics (ordered as in the terms of reference) and the watch themes."""

    topics: tuple[Category, ...]
    themes: tuple[Category, ...]

    def topic(self, key: str) -> Category | None:
        """The topic named ``key``, or None."""
        return next((t for t in self.topics if t.key == key), None)

    def theme(self, key: str) -> Category | None:
        """The theme named ``key``, or None."""
        return next((t for t in self.themes if t.key == key), None)


class TaxonomyError(ValueError):
    """The taxonomy file is wrong; the message names the entry and the fix."""


def _L(en: str, fr: str, es: str) -> dict[str, str]:
    return {"en": en, "fr": fr, "es": es}


DEFAULT: dict[str, Any] = {
    "topics": {
        "carbon_accounting": {
            "label": _L("Carbon accounting methods", "Méthodes de comptabilité carbone",
                        "Métodos de contabilidad de carbono"),
            "theme": "scientific",
            "terms": {"en": ["carbon accounting", "greenhouse gas accounting", "ghg accounting",
                             "emissions accounting", "carbon footprint", "life cycle assessment",
                             "ghg protocol", "scope 3", "emission factor*", "mrv"],
                      "fr": ["comptabilité carbone", "bilan carbone", "empreinte carbone",
                             "analyse du cycle de vie", "bilan des émissions",
                             "gaz à effet de serre"],
                      "es": ["contabilidad de carbono", "huella de carbono",
                             "análisis de ciclo de vida", "gases de efecto invernadero",
                             "inventario de emisiones"]}},
        "carbon_markets": {
            "label": _L("Carbon credit markets", "Marchés des crédits carbone",
                        "Mercados de créditos de carbono"),
            "theme": "economic",
            "terms": {"en": ["carbon market*", "carbon credit*", "carbon offset*", "offsetting",
                             "emissions trading", "cap and trade", "voluntary carbon market",
                             "article 6", "carbon price", "carbon pricing", "verra",
                             "gold standard"],
                      "fr": ["marché du carbone", "marchés du carbone", "crédit carbone",
                             "crédits carbone", "compensation carbone", "quotas d'émission",
                             "prix du carbone", "label bas-carbone"],
                      "es": ["mercado de carbono", "mercados de carbono", "crédito de carbono",
                             "créditos de carbono", "bonos de carbono", "compensación de carbono",
                             "precio del carbono"]}},
        "soil_measurement": {
            "label": _L("Soil carbon measurement technology",
                        "Technologies de mesure du carbone des sols",
                        "Tecnologías de medición del carbono del suelo"),
            "theme": "scientific",
            "terms": {"en": ["soil sampling", "soil carbon measurement", "soil organic carbon",
                             "soil carbon", "spectroscopy", "remote sensing", "soil probe*",
                             "soil test*", "soil core*", "soil organic matter"],
                      "fr": ["carbone du sol", "carbone des sols", "carbone organique",
                             "échantillonnage des sols", "matière organique du sol",
                             "spectroscopie", "télédétection", "analyse de sol"],
                      "es": ["carbono del suelo", "carbono orgánico", "muestreo de suelos",
                             "materia orgánica del suelo", "espectroscopía", "teledetección",
                             "análisis de suelo"]}},
        "soil_modelling": {
            "label": _L("Soil carbon modelling technology",
                        "Technologies de modélisation du carbone des sols",
                        "Tecnologías de modelización del carbono del suelo"),
            "theme": "scientific",
            "terms": {"en": ["soil carbon model*", "rothc", "century model", "daycent",
                             "biogeochemical model*", "process-based model*",
                             "digital soil mapping",
                             "machine learning", "simulation*", "climate model*"],
                      "fr": ["modélisation", "modèle de carbone", "cartographie numérique des sols",
                             "apprentissage automatique", "modèle climatique"],
                      "es": ["modelización", "modelado", "modelo de carbono",
                             "cartografía digital de suelos", "aprendizaje automático",
                             "modelo climático"]}},
        "soil_methods": {
            "label": _L("Soil carbon method development",
                        "Développement de méthodes carbone des sols",
                        "Desarrollo de métodos de carbono del suelo"),
            "theme": "sectoral",
            "terms": {"en": ["methodology", "methodologies", "soil carbon protocol*",
                             "carbon farming", "regenerative agriculture", "cover crop*",
                             "no-till", "agroforestry", "sequestration", "sequester*",
                             "carbon removal*", "conservation agriculture", "soil health"],
                      "fr": ["méthodologie", "agriculture régénératrice", "couverts végétaux",
                             "agroforesterie", "séquestration", "stockage du carbone",
                             "agriculture de conservation", "semis direct", "santé des sols",
                             "carbon farming"],
                      "es": ["metodología", "agricultura regenerativa", "cultivos de cobertura",
                             "agroforestería", "secuestro de carbono", "captura de carbono",
                             "agricultura de conservación", "siembra directa",
                             "salud del suelo"]}},
        "credit_integrity": {
            "label": _L("Soil carbon credit integrity", "Intégrité des crédits carbone des sols",
                        "Integridad de los créditos de carbono del suelo"),
            "theme": "sectoral",
            "terms": {"en": ["integrity", "additionality", "permanence", "double counting",
                             "leakage", "greenwashing", "verification", "certification",
                             "icvcm", "core carbon principles"],
                      "fr": ["intégrité", "additionnalité", "permanence", "double comptage",
                             "écoblanchiment", "greenwashing", "vérification", "certification"],
                      "es": ["integridad", "adicionalidad", "permanencia", "doble contabilidad",
                             "lavado verde", "greenwashing", "verificación", "certificación"]}},
        "soil_finance": {
            "label": _L("Soil carbon finance and investment",
                        "Financement et investissement carbone des sols",
                        "Finanzas e inversión en carbono del suelo"),
            "theme": "economic",
            "terms": {"en": ["climate finance", "green bond*", "impact investment",
                             "investor*", "investment*", "funding", "venture capital",
                             "blended finance", "subsid*", "payment for ecosystem services"],
                      "fr": ["finance climat", "financement", "investissement*",
                             "investisseur*", "obligations vertes", "subvention*",
                             "paiements pour services environnementaux"],
                      "es": ["finanzas climáticas", "financiamiento", "financiación",
                             "inversión", "inversiones", "inversor*", "bonos verdes",
                             "subvención", "subsidio*", "pago por servicios ambientales"]}},
        "co_benefits": {
            "label": _L("Co-benefits: biodiversity, water, productivity, food security",
                        "Co-bénéfices : biodiversité, eau, productivité, sécurité alimentaire",
                        "Cobeneficios: biodiversidad, agua, productividad, seguridad alimentaria"),
            "theme": "scientific",
            "terms": {"en": ["biodiversity", "water quality", "food security", "crop yield*",
                             "productivity", "pollinator*", "ecosystem services", "erosion",
                             "drought", "soil fertility", "food system*", "urban greening",
                             "foraging", "fungi", "microbes", "microbiome"],
                      "fr": ["biodiversité", "qualité de l'eau", "sécurité alimentaire",
                             "rendement*", "productivité", "pollinisateur*",
                             "services écosystémiques", "érosion", "sécheresse",
                             "fertilité des sols", "alimentation"],
                      "es": ["biodiversidad", "calidad del agua", "seguridad alimentaria",
                             "rendimiento*", "productividad", "polinizador*",
                             "servicios ecosistémicos", "erosión", "sequía",
                             "fertilidad del suelo"]}},
        "benefit_sharing": {
            "label": _L("Benefit-sharing with local communities",
                        "Partage des bénéfices avec les communautés locales",
                        "Distribución de beneficios con comunidades locales"),
            "theme": "sectoral",
            "terms": {"en": ["benefit sharing", "benefit-sharing", "local communit*",
                             "indigenous", "smallholder*", "farmers", "land rights",
                             "free prior and informed consent", "community-led"],
                      "fr": ["partage des bénéfices", "communautés locales", "autochtone*",
                             "petits exploitants", "agriculteurs", "droits fonciers"],
                      "es": ["distribución de beneficios", "comunidades locales", "indígena*",
                             "pequeños productores", "agricultores", "campesin*",
                             "derechos sobre la tierra"]}},
    },
    "themes": {
        "sectoral": {
            "label": _L("Sectoral", "Sectoriel", "Sectorial"),
            "terms": {"en": ["agriculture", "agricultural", "farming", "industry", "policy",
                             "regulation", "standard*", "agrifood", "forestry", "land use"],
                      "fr": ["agriculture", "agricole*", "filière", "politique agricole",
                             "réglementation", "norme*", "forêt*", "agroalimentaire"],
                      "es": ["agricultura", "agrícola*", "sector", "regulación", "normativa",
                             "política agraria", "agroalimentari*", "forestal"]}},
        "scientific": {
            "label": _L("Scientific", "Scientifique", "Científico"),
            "terms": {"en": ["study", "research*", "scientist*", "journal", "peer-reviewed",
                             "university", "experiment*", "data", "science"],
                      "fr": ["étude", "recherche*", "chercheur*", "scientifique*", "université",
                             "expérience*", "données"],
                      "es": ["estudio", "investigación", "investigador*", "científic*",
                             "universidad", "experimento*", "datos"]}},
        "economic": {
            "label": _L("Economic", "Économique", "Económico"),
            "terms": {"en": ["market*", "price*", "economy", "economic*", "company",
                             "companies", "trade", "revenue*", "startup*", "billion", "million"],
                      "fr": ["marché*", "prix", "économie", "économique*", "entreprise*",
                             "commerce", "milliard*", "million*", "start-up"],
                      "es": ["mercado*", "precio*", "economía", "económic*", "empresa*",
                             "comercio", "millones", "startup*"]}},
    },
}


def _category(key: str, data: dict[str, Any], *, kind: str) -> Category:
    labels = data.get("label", {})
    terms = data.get("terms", {})
    if isinstance(labels, str):
        labels = {"en": labels}
    if not isinstance(labels, dict) or not isinstance(terms, dict):
        raise TaxonomyError(f"{kind}.{key}: label and terms must be tables of en/fr/es")
    flat: list[str] = []
    for lang, words in terms.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise TaxonomyError(f"{kind}.{key}.terms.{lang}: expected a list of strings")
        flat.extend(w.strip() for w in words if w.strip())
    if not flat:
        raise TaxonomyError(f"{kind}.{key}: give at least one term")
    return Category(key=key, labels={str(k): str(v) for k, v in labels.items()},
                    terms=tuple(dict.fromkeys(flat)), theme=str(data.get("theme", "")))


def taxonomy_from(data: dict[str, Any]) -> Taxonomy:
    """Build a Taxonomy from a dict shaped like :data:`DEFAULT`. Raises TaxonomyError."""
    topics = data.get("topics") or {}
    themes = data.get("themes") or {}
    if not topics:
        raise TaxonomyError("the taxonomy needs a [topics.<key>] table")
    tx = Taxonomy(topics=tuple(_category(k, v, kind="topics") for k, v in topics.items()),
                  themes=tuple(_category(k, v, kind="themes") for k, v in themes.items()))
    for t in tx.topics:
        if t.theme and tx.theme(t.theme) is None:
            raise TaxonomyError(f"topics.{t.key}.theme: {t.theme!r} is not a theme")
    return tx


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The secretariat's taxonomy from the TOML file at ``path``, else the
    default. Raises TaxonomyError (bad content) or OSError (unreadable file)."""
    if path is None:
        return taxonomy_from(DEFAULT)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{path}: {exc}") from None
    return taxonomy_from(data)
