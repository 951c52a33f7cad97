"""Reference data every installation needs: the countries we serve and their return addresses."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.orm import Session

from warehouse.i18n import LANGUAGES
from warehouse.models import Country, Site


@dataclass(frozen=True)
class CountryInfo:
    """A served country: its currency, language and local return address."""

    code: str
    name: str
    currency: str
    language: str
    return_address: str


# Europe zone 1 (SPEC section 2). FR includes Corsica and Monaco; ES includes the Balearics but
# not the Canary Islands (postcodes 35xxx / 38xxx), which `served_postcode` refuses.
COUNTRIES: tuple[CountryInfo, ...] = (
    CountryInfo(
        "NL",
        "Netherlands",
        "EUR",
        "nl",
        "Returnyard Returns\nHavenweg 12\n5145 NJ Waalwijk\nNetherlands",
    ),
    CountryInfo(
        "BE",
        "Belgium",
        "EUR",
        "nl",
        "Returnyard Returns BE\nNoorderlaan 88\n2030 Antwerpen\nBelgium",
    ),
    CountryInfo(
        "LU",
        "Luxembourg",
        "EUR",
        "fr",
        "Returnyard Returns LU\nRue de l'Industrie 4\n3895 Foetz\nLuxembourg",
    ),
    CountryInfo(
        "DE",
        "Germany",
        "EUR",
        "de",
        "Returnyard Retouren\nLogistikring 7\n46446 Emmerich am Rhein\nGermany",
    ),
    CountryInfo(
        "AT",
        "Austria",
        "EUR",
        "de",
        "Returnyard Retouren AT\nIndustriestrasse 21\n2351 Wiener Neudorf\nAustria",
    ),
    CountryInfo(
        "FR",
        "France",
        "EUR",
        "fr",
        "Returnyard Retours\n14 rue des Entrepôts\n59000 Lille\nFrance",
    ),
    CountryInfo(
        "IT",
        "Italy",
        "EUR",
        "it",
        "Returnyard Resi\nVia della Logistica 3\n20090 Segrate MI\nItaly",
    ),
    CountryInfo(
        "ES",
        "Spain",
        "EUR",
        "es",
        "Returnyard Devoluciones\nCalle del Transporte 9\n28830 San Fernando de Henares\nSpain",
    ),
    CountryInfo(
        "DK",
        "Denmark",
        "DKK",
        "da",
        "Returnyard Returns DK\nTransportvej 5\n6330 Padborg\nDenmark",
    ),
    CountryInfo(
        "SE",
        "Sweden",
        "SEK",
        "sv",
        "Returnyard Returns SE\nTerminalgatan 2\n212 41 Malmö\nSweden",
    ),
    CountryInfo(
        "GB",
        "United Kingdom",
        "GBP",
        "en",
        "Returnyard Returns UK\nUnit 4, Dock Road\nDover CT16 1JA\nUnited Kingdom",
    ),
)
COUNTRY_BY_CODE = {info.code: info for info in COUNTRIES}


CountryCode = enum.StrEnum("CountryCode", [(info.code, info.code) for info in COUNTRIES])
CountryCode.__doc__ = "A served country (ISO 3166-1 alpha-2)."
Language = enum.StrEnum("Language", [(code, code) for code in LANGUAGES])
Language.__doc__ = "A language we write to people in (ISO 639-1)."


def served_postcode(country_code: str, postcode: str) -> bool:
    """False for addresses inside a served country that are outside zone 1 (Canary Islands)."""
    compact = postcode.replace(" ", "")
    return not (country_code == "ES" and compact[:2] in {"35", "38"})


def ensure_site(
    session: Session,
    code: str = "WAL",
    name: str = "Waalwijk returns centre",
    timezone: str = "Europe/Amsterdam",
    country_code: str = "NL",
) -> Site:
    """The site with `code`, created if missing."""
    site = session.query(Site).filter_by(code=code).one_or_none()
    if site is None:
        site = Site(
            code=code,
            name=name,
            timezone=timezone,
            country_code=country_code,
            address=COUNTRY_BY_CODE[country_code].return_address,
        )
        session.add(site)
        session.flush()
    return site


def ensure_countries(session: Session, site: Site) -> list[Country]:
    """Create the served countries that are missing, each returning to `site`."""
    existing = {country.code: country for country in session.query(Country)}
    for info in COUNTRIES:
        if info.code not in existing:
            existing[info.code] = Country(
                code=info.code,
                name=info.name,
                currency=info.currency,
                language=info.language,
                site_id=site.id,
                return_address=info.return_address,
            )
            session.add(existing[info.code])
    session.flush()
    return [existing[info.code] for info in COUNTRIES]
