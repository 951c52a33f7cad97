"""The legal guarantee per served country: how long the seller answers for a lack of conformity,
and how long a defect is presumed to have been there at delivery (the burden of proof on the
seller). Rules as data, each with its source; `warehouse.deadlines.assess` applies the one of
the order's country and the verdict names it.

The EU floor is Directive (EU) 2019/771: liability for at least two years from delivery
(Art. 10(1)) and a presumption of one year (Art. 11(1)), which a Member State may lengthen to
two (Art. 11(2)). Countries listed here go further; the others apply the floor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# A repair under the guarantee extends it by 12 months, once per line (Directive (EU) 2019/771
# Art. 10(1a), inserted by Directive (EU) 2024/1799 Art. 19, which applies from 31 July 2026).
REPAIR_EXTENSION_MONTHS = 12
EXTENSION_FROM = dt.date(2026, 7, 31)


def repair_extends(extended_months: int, today: dt.date) -> bool:
    """Whether a repair done on `today` (the site's calendar day) extends the guarantee of a line
    extended by `extended_months` so far."""
    return not extended_months and today >= EXTENSION_FROM


@dataclass(frozen=True)
class GuaranteeRule:
    """One country's guarantee."""

    country: str
    years: int  # liability period from delivery
    presumption_years: float  # a defect showing within this is presumed present at delivery
    source: str
    note: str = ""


EU_FLOOR = GuaranteeRule(
    "EU", 2, 1, "Directive (EU) 2019/771 Art. 10(1) (2 years) and Art. 11(1) (presumption 1 year)"
)

RULES: dict[str, GuaranteeRule] = {
    # Real Decreto Legislativo 1/2007 (TRLGDCU) Art. 120 and 121, as amended by Real
    # Decreto-ley 7/2021: 3 years for goods delivered from 1 January 2022, presumption 2 years.
    "ES": GuaranteeRule(
        "ES", 3, 2, "TRLGDCU (RDL 1/2007) Art. 120 and 121, as amended by RDL 7/2021"
    ),
    # Konsumentköplag (2022:260) 5 kap. 4 § (presumption 2 years) and 5 kap. 5 § (a complaint
    # within 3 years of receiving the goods).
    "SE": GuaranteeRule("SE", 3, 2, "Konsumentköplag (2022:260) 5 kap. 4 § and 5 §"),
    # Burgerlijk Wetboek 7:17 (conformity for the expected lifespan, no fixed end) and 7:18(2)
    # (presumption 1 year): the 2-year floor here, the lifespan may reach further.
    "NL": GuaranteeRule(
        "NL",
        2,
        1,
        "Burgerlijk Wetboek art. 7:17 and 7:18(2)",
        note="may run longer: the goods' expected lifespan (BW 7:17)",
    ),
    # Code de la consommation L.217-3 (2 years) and L.217-7 (presumption 24 months, new goods).
    "FR": GuaranteeRule("FR", 2, 2, "Code de la consommation art. L.217-3 and L.217-7"),
    # Consumer Rights Act 2015 s.19(14)-(15) (presumption 6 months) and Limitation Act 1980
    # s.5 (claims within 6 years; 5 in Scotland, Prescription and Limitation (Scotland) Act
    # 1973 s.6): not EU law, the customer's rights are longer.
    "GB": GuaranteeRule(
        "GB",
        6,
        0.5,
        "Consumer Rights Act 2015 s.19(14)-(15); Limitation Act 1980 s.5",
        note="5 years in Scotland",
    ),
}


def rule_for(country: str | None) -> GuaranteeRule:
    """The guarantee of an order shipped to `country` (the EU floor when none goes further)."""
    return RULES.get((country or "").upper(), EU_FLOOR)
