"""Sites and where each served country's returns go (admin)."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from warehouse import sites
from warehouse.db import db
from warehouse.models import Country, Role, Site
from warehouse.sites import CountryFields, SiteFields


class CountryOut(BaseModel):
    """A served country: the site its returns end up at and the address on its labels."""

    code: str
    name: str
    currency: str
    language: str
    site: str
    return_address: str


class SiteOut(BaseModel):
    """A returns centre and the countries returning to it."""

    code: str
    name: str
    timezone: str
    country: str
    address: str
    countries: list[CountryOut]

    @classmethod
    def of(cls, site: Site, countries: list[Country]) -> SiteOut:
        """The API's view of a site."""
        return cls(
            code=site.code,
            name=site.name,
            timezone=site.timezone,
            country=site.country_code,
            address=site.address,
            countries=[_country(c) for c in countries if c.site_id == site.id],
        )


class SiteList(BaseModel):
    """Every site."""

    sites: list[SiteOut]


def _country(country: Country) -> CountryOut:
    return CountryOut(
        code=country.code,
        name=country.name,
        currency=country.currency,
        language=country.language,
        site=country.site.code,
        return_address=country.return_address,
    )


def _countries() -> list[Country]:
    return list(db.session.scalars(sa.select(Country).order_by(Country.code)))


@bp.get("/sites")
@token_required(Role.SUPERVISOR)
@operation(
    "Sites and the countries returning to each",
    operation_id="listSites",
    answers={200: Answer("The sites", SiteList)},
    errors=(401, 403),
)
def list_sites():
    """Every site with its countries."""
    countries = _countries()
    found = db.session.scalars(sa.select(Site).order_by(Site.code))
    return answer(SiteList(sites=[SiteOut.of(site, countries) for site in found]))


@bp.post("/sites")
@token_required()
@operation(
    "Add a site (admin); the first one gets every served country",
    operation_id="createSite",
    body=SiteFields,
    answers={201: Answer("The site was created", SiteOut)},
    errors=(400, 401, 403, 409),
)
def create_site(body: SiteFields):
    """Create a site."""
    site = sites.create_site(db.session, api_actor(), body)
    db.session.commit()
    return answer(SiteOut.of(site, _countries()), 201)


@bp.put("/countries/<code>")
@token_required()
@operation(
    "Send a country's returns to a site, at a return address (admin)",
    operation_id="setCountryReturn",
    body=CountryFields,
    answers={200: Answer("The country as stored now", CountryOut)},
    errors=(400, 401, 403, 404),
)
def set_country(code: str, body: CountryFields):
    """Where one country's customers send their parcels."""
    country = sites.set_country_return(db.session, api_actor(), code, body)
    db.session.commit()
    return answer(_country(country))
