"""Sites (returns centres) and where each served country's customers send their parcels.

A country's local return address is printed on its customers' return labels (SPEC 2). It is the
site's own address, or a consolidation point in that country that forwards the parcels to the
site; either way the country names the site the parcels end up at. A new installation gets the
served countries (with the reference addresses) when its first site is created.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from pydantic import Field, field_validator
from sqlalchemy.orm import Session

from warehouse import events
from warehouse.errors import Conflict, NotFound
from warehouse.i18n import gettext as _
from warehouse.models import Country, Site
from warehouse.reference import CountryCode, ensure_countries
from warehouse.validation import Input, Text, code_of, validated


class SiteFields(Input):
    """A returns centre."""

    code: Text(16, pattern=r"^[A-Za-z0-9-]{2,16}$") = Field(description="Short code, e.g. WAL")
    name: Text(120)
    timezone: Text(64) = Field("Europe/Amsterdam", description="IANA time zone of the site")
    country: code_of(CountryCode)
    address: Text(500) = Field(description="Postal address, lines separated by newlines")

    @field_validator("code", mode="after")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("timezone", mode="after")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                _("%(zone)s is not a time zone (e.g. Europe/Amsterdam)", zone=repr(value))
            ) from None
        if value not in available_timezones():
            raise ValueError(
                _("%(zone)s is not a time zone (e.g. Europe/Amsterdam)", zone=repr(value))
            )
        return value


class CountryFields(Input):
    """Where one served country's returns go."""

    site: Text(16) = Field(description="The site the parcels end up at")
    return_address: Text(500) = Field(
        description="Printed on the customer's label: the site or a consolidation point"
    )


def get_site(session: Session, code: str) -> Site:
    """The site with `code` (any case), or NotFound naming it."""
    site = session.scalar(sa.select(Site).where(Site.code == (code or "").strip().upper()))
    if site is None:
        raise NotFound(_("no site with code %(code)s", code=repr(code)), field="site")
    return site


def create_site(session: Session, actor: events.Actor, data) -> Site:
    """Add a site; the first one also gets every served country returning to it."""
    fields = validated(SiteFields, data)
    if session.scalar(sa.select(Site.id).where(Site.code == fields.code)) is not None:
        raise Conflict(
            _("a site with code %(code)s exists already", code=repr(fields.code)), field="code"
        )
    site = Site(
        code=fields.code,
        name=fields.name,
        timezone=fields.timezone,
        country_code=str(fields.country),
        address=fields.address,
    )
    session.add(site)
    session.flush()
    ensure_countries(session, site)
    events.record(session, actor, "site.created", site, after=site.code, site_id=site.id)
    return site


def set_country_return(session: Session, actor: events.Actor, code: str, data) -> Country:
    """Send one country's returns to a site, at a return address (a consolidation point or the
    site's own). The event is the site's (the site the parcels now end up at)."""
    country = session.get(Country, (code or "").strip().upper())
    if country is None:
        raise NotFound(_("%(code)s is not a served country", code=repr(code)), field="country")
    fields = validated(CountryFields, data)
    site = get_site(session, fields.site)
    before = {"site": country.site.code, "return_address": country.return_address}
    country.site_id, country.return_address = site.id, fields.return_address
    session.flush()
    after = {"site": site.code, "return_address": country.return_address}
    if before != after:
        events.record(
            session,
            actor,
            "country.return_changed",
            site,
            before=before["site"],
            after=after["site"],
            site_id=site.id,
            country=country.code,
            changes={"before": before, "after": after},
        )
    return country
