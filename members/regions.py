"""The UN M49 region of each country (ISO 3166-1 alpha-2), for the staff's filters and report.

The five regions of the UN Statistics Division's standard M49: Africa (002), Americas (019),
Asia (142), Europe (150) and Oceania (009). Their names come from the Unicode CLDR through Babel,
in the language of the page. Antarctica belongs to none.
"""

import functools

from babel import Locale, UnknownLocaleError
from django.utils.translation import get_language

AFRICA = "002"
AMERICAS = "019"
ASIA = "142"
EUROPE = "150"
OCEANIA = "009"

REGIONS = (AFRICA, AMERICAS, ASIA, EUROPE, OCEANIA)

_COUNTRIES = {
    AFRICA: (
        # Northern Africa
        "DZ EG LY MA SD TN EH "
        # Eastern Africa
        "BI KM DJ ER ET KE MG MW MU YT MZ RE RW SC SO SS UG TZ ZM ZW IO TF "
        # Middle Africa
        "AO CM CF TD CG CD GQ GA ST "
        # Southern Africa
        "BW SZ LS NA ZA "
        # Western Africa
        "BJ BF CV CI GM GH GN GW LR ML MR NE NG SH SN SL TG"
    ),
    AMERICAS: (
        # Caribbean
        "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI "
        # Central America
        "BZ CR SV GT HN MX NI PA "
        # South America
        "AR BO BV BR CL CO EC FK GF GY PY PE GS SR UY VE "
        # Northern America
        "BM CA GL PM US"
    ),
    ASIA: (
        # Central Asia
        "KZ KG TJ TM UZ "
        # Eastern Asia
        "CN HK MO KP JP MN KR TW "
        # South-eastern Asia
        "BN KH ID LA MY MM PH SG TH TL VN "
        # Southern Asia
        "AF BD BT IN IR MV NP PK LK "
        # Western Asia
        "AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE"
    ),
    EUROPE: (
        # Eastern Europe
        "BY BG CZ HU PL MD RO RU SK UA "
        # Northern Europe
        "AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB "
        # Southern Europe
        "AL AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES XK "
        # Western Europe
        "AT BE FR DE LI LU MC NL CH"
    ),
    OCEANIA: (
        # Australia and New Zealand
        "AU CX CC HM NZ NF "
        # Melanesia
        "FJ NC PG SB VU "
        # Micronesia
        "GU KI MH FM NR MP PW UM "
        # Polynesia
        "AS CK PF NU PN WS TK TO TV WF"
    ),
}

REGION_OF: dict[str, str] = {
    country: region for region, countries in _COUNTRIES.items() for country in countries.split()
}


def countries_in(region: str) -> list[str]:
    return sorted(code for code, found in REGION_OF.items() if found == region)


def region_of(country: str) -> str:
    """The M49 code of the country's region; ``""`` for none (Antarctica) or no country."""
    return REGION_OF.get(str(country or "").upper(), "")


def region_name(region: str, language: str | None = None) -> str:
    """The region's name in ``language`` (the page's by default), from the Unicode CLDR."""
    if not region:
        return ""
    return _region_name(region, (language or get_language() or "en").replace("-", "_"))


@functools.lru_cache(maxsize=256)
def _region_name(region: str, language: str) -> str:
    # Kept: reading a locale's data costs more than the rest of a row of the members' list.
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    return str(locale.territories.get(region, region))


def region_choices(language: str | None = None) -> list[tuple[str, str]]:
    return [(region, region_name(region, language)) for region in REGIONS]
