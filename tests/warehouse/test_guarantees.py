"""The legal guarantee per served country (rules as data in `warehouse.guarantees`), applied by
the deadline engine: Directive (EU) 2019/771 Art. 10(1) and 11 as the floor, and the countries
that go further, each test citing its source."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warehouse.deadlines import Verdict, add_months, assess
from warehouse.guarantees import EU_FLOOR, RULES, rule_for
from warehouse.models import Reason

DELIVERED = dt.date(2024, 3, 10)


def _verdict(country: str, notice: dt.date):
    return assess(
        reason=Reason.DEFECTIVE,
        delivered_on=DELIVERED,
        notice_on=notice,
        guarantee=rule_for(country),
    )


@pytest.mark.parametrize(
    ("country", "last_day", "presumed_until", "source"),
    [
        # Directive (EU) 2019/771 Art. 10(1) (2 years) and Art. 11(1) (presumption 1 year)
        ("DE", dt.date(2026, 3, 10), dt.date(2025, 3, 10), "2019/771"),
        ("BE", dt.date(2026, 3, 10), dt.date(2025, 3, 10), "2019/771"),
        # TRLGDCU Art. 120 and 121 as amended by RDL 7/2021: 3 years, presumption 2 years
        ("ES", dt.date(2027, 3, 10), dt.date(2026, 3, 10), "RDL 7/2021"),
        # Konsumentköplag (2022:260) 5 kap. 4 § and 5 §: 3 years, presumption 2 years
        ("SE", dt.date(2027, 3, 10), dt.date(2026, 3, 10), "2022:260"),
        # Burgerlijk Wetboek 7:17 and 7:18(2): the floor, presumption 1 year
        ("NL", dt.date(2026, 3, 10), dt.date(2025, 3, 10), "7:18"),
        # Code de la consommation L.217-3 and L.217-7: 2 years, presumption 24 months
        ("FR", dt.date(2026, 3, 10), dt.date(2026, 3, 10), "L.217-7"),
        # Consumer Rights Act 2015 s.19(14)-(15), Limitation Act 1980 s.5: 6 years, 6 months
        ("GB", dt.date(2030, 3, 10), dt.date(2024, 9, 10), "Limitation Act"),
    ],
)
def test_each_country_has_its_guarantee_and_presumption(country, last_day, presumed_until, source):
    """The verdict on the last day and the day after, and the rule it names."""
    on_time = _verdict(country, last_day)
    assert on_time.verdict == Verdict.GUARANTEE
    assert on_time.guarantee_ends_on == last_day
    assert on_time.presumption_ends_on == presumed_until
    assert source in on_time.guarantee_source
    assert _verdict(country, last_day + dt.timedelta(days=1)).verdict == Verdict.OUT_OF_WINDOW


def test_no_country_falls_below_the_eu_floor():
    """Directive (EU) 2019/771 Art. 10(1): at least two years (a maximum-harmonisation floor for
    the presumption's one year, Art. 11(1), which a country may only lengthen)."""
    for rule in RULES.values():
        if rule.country == "GB":
            continue  # not bound by the Directive; its period is longer anyway
        assert rule.years >= EU_FLOOR.years
        assert rule.presumption_years >= EU_FLOOR.presumption_years
    assert rule_for("IT") is EU_FLOOR
    assert rule_for(None) is EU_FLOOR


@given(
    days=st.integers(min_value=0, max_value=4000), country=st.sampled_from(["DE", "ES", "SE", "GB"])
)
def test_the_guarantee_holds_exactly_until_its_end(days, country):
    """Art. 10(1) and the national periods: covered up to and including the last day."""
    notice = DELIVERED + dt.timedelta(days=days)
    verdict = _verdict(country, notice)
    covered = notice <= verdict.guarantee_ends_on
    assert (verdict.verdict == Verdict.GUARANTEE) is covered


@given(
    days=st.integers(min_value=0, max_value=8 * 366),
    country=st.sampled_from(["NL", "BE", "DE", "ES", "SE", "FR", "GB", "IT"]),
)
def test_a_repair_extends_the_guarantee_by_12_months_exactly(days, country):
    """Directive (EU) 2019/771 Art. 10(1a), inserted by Directive (EU) 2024/1799 Art. 16: after
    a repair the liability period runs 12 months longer, in every served country; a defect
    shown in those 12 months is still covered, one after them is not."""
    notice = DELIVERED + dt.timedelta(days=days)
    rule = rule_for(country)
    plain = assess(
        reason=Reason.DEFECTIVE, delivered_on=DELIVERED, notice_on=notice, guarantee=rule
    )
    extended = assess(
        reason=Reason.DEFECTIVE,
        delivered_on=DELIVERED,
        notice_on=notice,
        guarantee=rule,
        extended_months=12,
    )
    assert extended.guarantee_ends_on == add_months(plain.guarantee_ends_on, 12)
    assert extended.presumption_ends_on == plain.presumption_ends_on
    assert (extended.verdict == Verdict.GUARANTEE) is (notice <= extended.guarantee_ends_on)
    if plain.verdict == Verdict.GUARANTEE:
        assert extended.verdict == Verdict.GUARANTEE
