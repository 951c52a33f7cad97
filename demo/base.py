"""Demo data, stage 1: the site, the countries, partners, catalogue, orders and demo users.

Partners (codes are stable, later demo stages and the README refer to them):

| code | sells | approval | window + grace | returns go to | defective |
|---|---|---|---|---|---|
| VOLT | electronics | auto | 14 + 2 | warehouse | return to vendor |
| NORD | fashion | auto | 30 + 3 | warehouse | destroy |
| CASA | home | consult | 14 + 0 | warehouse | return to vendor |
| PURE | hygiene | consult | 14 + 1 | warehouse | destroy |
| ATEL | fashion, home | auto | 30 + 5 | the partner itself | destroy |
| GADG | electronics | consult | 30 + 0 | warehouse | return to vendor |

Orders go through `warehouse.orders.place_order` and `set_tracking`, the same code the API
uses, so the demo holds only what the real checks accept.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import unicodedata
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from warehouse import orders
from warehouse.events import Actor
from warehouse.models import (
    ApprovalMode,
    Category,
    DefectiveHandling,
    Destination,
    OutOfWindowPolicy,
    Partner,
    Product,
    ProductPrice,
    Role,
    User,
)
from warehouse.reference import COUNTRY_BY_CODE, ensure_countries, ensure_site

DEMO_PASSWORD = "returnyard-demo"
ACTOR = Actor(label="demo")
ORDER_COUNT = 540

# (email, name, role, partner code)
DEMO_USERS = (
    ("operator@returnyard.example", "Olga Operator", Role.OPERATOR, None),
    ("supervisor@returnyard.example", "Sam Supervisor", Role.SUPERVISOR, None),
    ("admin@returnyard.example", "Ada Admin", Role.ADMIN, None),
    ("volt@partners.example", "Vera at Voltage", Role.PARTNER, "VOLT"),
    ("nord@partners.example", "Nils at Nordic Threads", Role.PARTNER, "NORD"),
)

_STANDARD_DEDUCTIONS = {"used": 1000, "light_damage": 3000, "heavy_damage": 5000}
_STANDARD_DISCOUNTS = {
    "opened": 1000,
    "used": 2500,
    "light_damage": 4000,
    "heavy_damage": 7000,
    "defective": 9000,
}

PARTNERS = (
    {
        "code": "VOLT",
        "name": "Voltage Electronics",
        "contact_email": "returns@voltage.example",
        "language": "nl",
        "address": "Voltage Electronics B.V.\nKanaalweg 40\n3526 KM Utrecht\nNetherlands",
        "commission_rate_bp": 800,
        "window_days": 14,
        "grace_days": 2,
        "approval_mode": ApprovalMode.AUTO,
        "destination": Destination.WAREHOUSE,
        "defective_handling": DefectiveHandling.RETURN_TO_VENDOR,
        "out_of_window": OutOfWindowPolicy.CONSULT,
        "refund_deduction_bp": {"used": 1500, "light_damage": 3000, "heavy_damage": 6000},
        "resale_discount_bp": {
            "opened": 1500,
            "used": 3000,
            "light_damage": 4500,
            "heavy_damage": 8000,
        },
        "categories": (Category.ELECTRONICS,),
    },
    {
        "code": "NORD",
        "name": "Nordic Threads",
        "contact_email": "care@nordicthreads.example",
        "language": "en",
        "address": "Nordic Threads AB\nSkeppsbron 12\n211 20 Malmö\nSweden",
        "commission_rate_bp": 1500,
        "window_days": 30,
        "grace_days": 3,
        "approval_mode": ApprovalMode.AUTO,
        "destination": Destination.WAREHOUSE,
        "defective_handling": DefectiveHandling.DESTROY,
        "out_of_window": OutOfWindowPolicy.GOODWILL,
        "refund_deduction_bp": {"used": 2000, "light_damage": 4000, "heavy_damage": 7000},
        "resale_discount_bp": {"opened": 500, "used": 3500, "light_damage": 5000},
        "categories": (Category.FASHION,),
    },
    {
        "code": "CASA",
        "name": "Casa Bella Home",
        "contact_email": "retours@casabella.example",
        "language": "fr",
        "address": "Casa Bella Home SARL\n8 rue du Commerce\n69002 Lyon\nFrance",
        "commission_rate_bp": 1200,
        "window_days": 14,
        "grace_days": 0,
        "approval_mode": ApprovalMode.CONSULT,
        "destination": Destination.WAREHOUSE,
        "defective_handling": DefectiveHandling.RETURN_TO_VENDOR,
        "out_of_window": OutOfWindowPolicy.REJECT,
        "refund_deduction_bp": _STANDARD_DEDUCTIONS,
        "resale_discount_bp": _STANDARD_DISCOUNTS,
        "consult_escalate_days": 2,
        "categories": (Category.HOME,),
    },
    {
        "code": "PURE",
        "name": "PureCare",
        "contact_email": "service@purecare.example",
        "language": "de",
        "address": "PureCare GmbH\nHafenstraße 3\n20457 Hamburg\nGermany",
        "commission_rate_bp": 1000,
        "window_days": 14,
        "grace_days": 1,
        "approval_mode": ApprovalMode.CONSULT,
        "destination": Destination.WAREHOUSE,
        "defective_handling": DefectiveHandling.DESTROY,
        "out_of_window": OutOfWindowPolicy.REJECT,
        "refund_deduction_bp": {"opened": 5000, "used": 10000},
        "resale_discount_bp": {"opened": 3000},
        "categories": (Category.HYGIENE,),
        "not_sold_in": ("GBP",),
    },
    {
        "code": "ATEL",
        "name": "Atelier Lumière",
        "contact_email": "bonjour@atelierlumiere.example",
        "language": "fr",
        "address": "Atelier Lumière\n27 avenue Jean Médecin\n06000 Nice\nFrance",
        "commission_rate_bp": 2000,
        "window_days": 30,
        "grace_days": 5,
        "approval_mode": ApprovalMode.AUTO,
        "destination": Destination.PARTNER,
        "defective_handling": DefectiveHandling.DESTROY,
        "out_of_window": OutOfWindowPolicy.CONSULT,
        "refund_deduction_bp": _STANDARD_DEDUCTIONS,
        "resale_discount_bp": {"opened": 2000, "used": 4000},
        "categories": (Category.FASHION, Category.HOME),
    },
    {
        "code": "GADG",
        "name": "GadgetHub UK",
        "contact_email": "returns@gadgethub.example",
        "language": "en",
        "address": "GadgetHub Ltd\nUnit 9, Riverside Park\nManchester M17 1SN\nUnited Kingdom",
        "commission_rate_bp": 500,
        "window_days": 30,
        "grace_days": 0,
        "approval_mode": ApprovalMode.CONSULT,
        "destination": Destination.WAREHOUSE,
        "defective_handling": DefectiveHandling.RETURN_TO_VENDOR,
        "out_of_window": OutOfWindowPolicy.GOODWILL,
        "refund_deduction_bp": {"used": 1000, "light_damage": 2500, "heavy_damage": 5000},
        "resale_discount_bp": _STANDARD_DISCOUNTS,
        "consult_escalate_days": 5,
        "categories": (Category.ELECTRONICS,),
    },
)

# Per category: (kinds of product, variants, price range in euro cents, weight range in grams)
CATALOGUE = {
    Category.ELECTRONICS: (
        (
            "Smartphone",
            "Wireless earbuds",
            "Tablet",
            "Smartwatch",
            "Bluetooth speaker",
            "Power bank",
            "E-reader",
            "Noise-cancelling headphones",
            "Action camera",
            "Game controller",
        ),
        ("64 GB", "128 GB", "Black", "Silver", "Blue", "Pro", "Mini", "2nd gen"),
        (1999, 89999),
        (80, 900),
    ),
    Category.FASHION: (
        (
            "Wool sweater",
            "Denim jacket",
            "Linen shirt",
            "Chino trousers",
            "Rain coat",
            "Leather belt",
            "Sneakers",
            "Knit beanie",
            "Summer dress",
            "Hoodie",
        ),
        ("S", "M", "L", "XL", "size 38", "size 40", "size 42", "navy", "olive", "sand"),
        (1495, 24995),
        (150, 1400),
    ),
    Category.HOME: (
        (
            "Ceramic vase",
            "Table lamp",
            "Cotton duvet cover",
            "Cast-iron pan",
            "Bath towel set",
            "Wall clock",
            "Scented candle",
            "Linen cushion",
            "Glass carafe",
            "Wool throw",
        ),
        ("white", "terracotta", "grey", "oak", "small", "large", "set of 2", "140x200"),
        (995, 17995),
        (200, 4000),
    ),
    Category.HYGIENE: (
        (
            "Electric toothbrush",
            "Hair dryer",
            "Beard trimmer",
            "Facial cleansing brush",
            "Menstrual cup",
            "Razor set",
            "Epilator",
            "Hair straightener",
        ),
        ("travel", "sensitive", "deluxe", "2-pack", "rose", "charcoal"),
        (995, 14995),
        (60, 900),
    ),
}
PRODUCTS_PER_PARTNER = 40

# Currency conversion for list prices, in basis points of the euro price.
CURRENCY_RATE_BP = {"EUR": 10_000, "GBP": 8_600, "DKK": 74_600, "SEK": 113_000}

# Countries weighted like a Benelux-based marketplace's customers.
COUNTRY_WEIGHTS = {
    "NL": 18,
    "DE": 17,
    "BE": 9,
    "FR": 10,
    "GB": 10,
    "IT": 6,
    "ES": 6,
    "AT": 5,
    "DK": 7,
    "SE": 8,
    "LU": 4,
}
CARRIERS = {
    "NL": ("PostNL", "3S"),
    "BE": ("bpost", "BP"),
    "LU": ("DPD", "DP"),
    "DE": ("DHL", "JJ"),
    "AT": ("DHL", "JJ"),
    "FR": ("Colissimo", "6A"),
    "IT": ("DPD", "DP"),
    "ES": ("DPD", "DP"),
    "DK": ("PostNord", "PN"),
    "SE": ("PostNord", "PN"),
    "GB": ("Royal Mail", "RM"),
}
PEOPLE = {
    "NL": (("Anna", "Daan", "Sanne", "Lucas", "Emma", "Bram"), ("de Vries", "Jansen", "Bakker")),
    "BE": (("Lotte", "Arthur", "Louise", "Wout"), ("Peeters", "Janssens", "Maes", "Dubois")),
    "LU": (("Léa", "Gilles", "Mia"), ("Schmit", "Muller", "Weber")),
    "DE": (("Lena", "Jonas", "Mia", "Felix", "Hanna"), ("Müller", "Schmidt", "Schneider")),
    "AT": (("Sophie", "Tobias", "Lea"), ("Gruber", "Huber", "Wagner")),
    "FR": (("Camille", "Hugo", "Chloé", "Louis"), ("Martin", "Bernard", "Dubois", "Leroy")),
    "IT": (("Giulia", "Marco", "Chiara", "Luca"), ("Rossi", "Russo", "Ferrari", "Esposito")),
    "ES": (("Lucía", "Pablo", "Carmen", "Javier"), ("García", "López", "Martínez", "Ruiz")),
    "DK": (("Freja", "Mads", "Ida", "Emil"), ("Nielsen", "Jensen", "Hansen", "Larsen")),
    "SE": (("Elsa", "Oskar", "Maja", "William"), ("Andersson", "Johansson", "Karlsson")),
    "GB": (("Olivia", "George", "Amelia", "Harry"), ("Smith", "Jones", "Taylor", "Brown")),
}
STREETS = {
    "NL": ("Kerkstraat", "Damrak", "Stationsweg", "Molenlaan"),
    "BE": ("Meir", "Kerkstraat", "Rue Neuve", "Grote Markt"),
    "LU": ("Grand-Rue", "Avenue de la Liberté", "Rue de Hollerich"),
    "DE": ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg"),
    "AT": ("Mariahilfer Straße", "Hauptplatz", "Ringstraße"),
    "FR": ("Rue de la République", "Avenue Victor Hugo", "Rue Pasteur", "Boulevard Gambetta"),
    "IT": ("Via Roma", "Corso Italia", "Via Garibaldi", "Via Dante"),
    "ES": ("Calle Mayor", "Gran Vía", "Calle Real", "Avenida de la Constitución"),
    "DK": ("Strøget", "Vestergade", "Nørregade", "Østerbrogade"),
    "SE": ("Storgatan", "Drottninggatan", "Kungsgatan", "Södra vägen"),
    "GB": ("High Street", "Station Road", "Church Lane", "Victoria Road"),
}
CITIES = {
    "NL": ("Amsterdam", "Utrecht", "Rotterdam", "Eindhoven"),
    "BE": ("Antwerpen", "Gent", "Bruxelles", "Leuven"),
    "LU": ("Luxembourg", "Esch-sur-Alzette", "Differdange"),
    "DE": ("Berlin", "Köln", "München", "Hamburg"),
    "AT": ("Wien", "Graz", "Linz", "Salzburg"),
    "FR": ("Paris", "Lyon", "Ajaccio", "Monaco"),
    "IT": ("Milano", "Roma", "Torino", "Bologna"),
    "ES": ("Madrid", "Barcelona", "Palma", "Valencia"),
    "DK": ("København", "Aarhus", "Odense"),
    "SE": ("Stockholm", "Göteborg", "Malmö", "Uppsala"),
    "GB": ("London", "Leeds", "Bristol", "Glasgow"),
}
GB_POSTCODES = ("SW1A 1AA", "EC1A 1BB", "M1 1AE", "LS1 4AP", "BS1 5TR", "G2 3AX")


def load(session: Session, rng: random.Random, today: dt.date) -> None:
    """Site, countries, partners, catalogue, orders (delivered over the last 60 days), users."""
    site = ensure_site(session, code="WAL", name="Waalwijk returns centre")
    ensure_countries(session, site)
    partners = _partners(session)
    catalogue = _catalogue(session, rng, partners)
    _orders(session, rng, today, ZoneInfo(site.timezone), catalogue)
    _sizes(session, catalogue)
    _users(session, site, partners)
    session.flush()


SIZES = ("S", "M", "L", "XL")


def _sizes(session: Session, catalogue: dict[str, list[Product]]) -> None:
    """The other sizes of each sized garment, as products of the same style with the same
    prices and a little stock: what a customer may exchange a wrong size for. Made after the
    orders (and without the random generator), so the orders stay as they were."""
    gtin_body = itertools.count(872_234_500_000)
    for products in catalogue.values():
        for product in list(products):
            kind, _, size = product.title.rpartition(", ")
            if product.category != Category.FASHION or size not in SIZES:
                continue
            product.style = product.sku
            for other in SIZES:
                if other == size:
                    continue
                sibling = Product(
                    partner=product.partner,
                    sku=f"{product.sku}-{other}",
                    gtin=ean13(str(next(gtin_body))),
                    title=f"{kind}, {other}",
                    category=product.category,
                    weight_grams=product.weight_grams,
                    stock=8,
                    style=product.style,
                )
                for price in product.prices:
                    sibling.prices.append(
                        ProductPrice(
                            currency=price.currency,
                            price_minor=price.price_minor,
                            min_price_minor=price.min_price_minor,
                        )
                    )
                session.add(sibling)


def _partners(session: Session) -> dict[str, Partner]:
    partners = {}
    for spec in PARTNERS:
        fields = {k: v for k, v in spec.items() if k not in ("categories", "not_sold_in")}
        partners[spec["code"]] = Partner(**fields)
        session.add(partners[spec["code"]])
    session.flush()
    return partners


def ean13(body: str) -> str:
    """`body` (12 digits) with its EAN-13 check digit, so scanners accept the code."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _nice(minor: int) -> int:
    """A shelf price: rounded up to the next whole unit less one cent (…,99), at least 0,99."""
    return max(99, (minor // 100 + 1) * 100 - 1)


def _catalogue(
    session: Session, rng: random.Random, partners: dict[str, Partner]
) -> dict[str, list[Product]]:
    """PRODUCTS_PER_PARTNER products per partner, priced per currency with resale floors."""
    gtin_body = itertools.count(871_234_500_000)
    catalogue: dict[str, list[Product]] = {}
    for spec in PARTNERS:
        partner = partners[spec["code"]]
        products = []
        for n in range(PRODUCTS_PER_PARTNER):
            category = spec["categories"][n % len(spec["categories"])]
            kinds, variants, (low, high), (light, heavy) = CATALOGUE[category]
            kind = kinds[(n // len(spec["categories"])) % len(kinds)]
            title = f"{kind}, {rng.choice(variants)}"
            euro = _nice(rng.randint(low, high))
            product = Product(
                partner=partner,
                sku=f"{spec['code']}-{n + 1:04d}",
                gtin=ean13(str(next(gtin_body))),
                title=title,
                category=category,
                weight_grams=rng.randint(light, heavy),
                stock=rng.randint(0, 120),
            )
            floor_bp = rng.choice((3000, 4000, 5000))
            for currency, rate in CURRENCY_RATE_BP.items():
                if currency in spec.get("not_sold_in", ()):
                    continue
                price = euro if currency == "EUR" else _nice(euro * rate // 10_000)
                product.prices.append(
                    ProductPrice(
                        currency=currency,
                        price_minor=price,
                        min_price_minor=price * floor_bp // 10_000,
                    )
                )
            session.add(product)
            products.append(product)
        catalogue[spec["code"]] = products
    session.flush()
    return catalogue


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _postcode(rng: random.Random, country: str) -> str:
    match country:
        case "NL":
            letters = rng.choice("ABCDEGHJKLMNPRSTVWXZ") + rng.choice("ABEHKLNPRSTVX")
            return f"{rng.randint(1011, 9999)} {letters}"
        case "SE":
            return f"{rng.randint(111, 984)} {rng.randint(10, 99)}"
        case "GB":
            return rng.choice(GB_POSTCODES)
        case "BE" | "LU" | "AT" | "DK":
            return str(rng.randint(1000, 9990))
        case "ES":
            # Mainland and the Balearics (07…); never the Canary Islands (35…, 38…).
            province = rng.choice((1, 3, 7, 8, 12, 28, 29, 41, 46, 48, 50))
            return f"{province:02d}{rng.randint(1, 999):03d}"
        case "FR":
            return rng.choice(("75011", "69002", "20000", "98000", "13001", "59000"))
        case _:
            return f"{rng.randint(10_000, 99_999):05d}"


def _serials(rng: random.Random, product: Product, quantity: int, seq) -> list[str]:
    if product.category != Category.ELECTRONICS:
        return []
    if product.title.startswith("Smartphone"):
        return [
            f"35{rng.randint(10**10, 10**11 - 1)}{next(seq) % 1000:03d}" for _ in range(quantity)
        ]
    return [f"SN{product.partner.code}{next(seq):07d}" for _ in range(quantity)]


def _orders(
    session: Session,
    rng: random.Random,
    today: dt.date,
    zone: ZoneInfo,
    catalogue: dict[str, list[Product]],
) -> None:
    """ORDER_COUNT orders over every served country; about one in five spans partners."""
    countries = list(COUNTRY_WEIGHTS)
    weights = list(COUNTRY_WEIGHTS.values())
    serial_seq = itertools.count(1)
    tracking_seq = itertools.count(1)
    codes = list(catalogue)
    batch: list[dict] = []
    delivered_on_by_number: dict[str, dt.date | None] = {}
    for n in range(ORDER_COUNT):
        # The first orders visit every country once, the rest follow the weights.
        country = countries[n] if n < len(countries) else rng.choices(countries, weights)[0]
        info = COUNTRY_BY_CODE[country]
        sellers = [
            code for code in codes if all(p.price_in(info.currency) for p in catalogue[code][:1])
        ]
        partner_count = rng.choices((1, 2, 3), (80, 15, 5))[0]
        lines = []
        for code in rng.sample(sellers, partner_count):
            for product in rng.sample(catalogue[code], rng.choices((1, 2, 3), (70, 22, 8))[0]):
                quantity = 1
                if product.category != Category.ELECTRONICS:
                    quantity = rng.choices((1, 2, 3), (75, 20, 5))[0]
                line = {"partner": code, "sku": product.sku, "quantity": quantity}
                serials = _serials(rng, product, quantity, serial_seq)
                if serials:
                    line["serial_numbers"] = serials
                lines.append(line)

        # Most orders were delivered 1..60 days ago; the newest few are still on their way.
        on_the_way = n % 25 == 0
        if on_the_way:
            delivered_on = None
            placed_on = today - dt.timedelta(days=rng.randint(1, 2))
        else:
            delivered_on = today - dt.timedelta(days=rng.randint(1, 60))
            placed_on = delivered_on - dt.timedelta(days=rng.randint(1, 4))
        placed_at = dt.datetime.combine(
            placed_on, dt.time(rng.randint(7, 22), rng.randint(0, 59)), zone
        )
        first, last = rng.choice(PEOPLE[country][0]), rng.choice(PEOPLE[country][1])
        number = f"MP-{today:%y}{n + 1:05d}"
        batch.append(
            {
                "number": number,
                "channel": rng.choices(("marketplace", "app", "webshop"), (60, 30, 10))[0],
                "customer": {
                    "name": f"{first} {last}",
                    "email": f"{_ascii(first)}.{_ascii(last).replace(' ', '')}.{n + 1}@example.org",
                    "postcode": _postcode(rng, country),
                    "address": (
                        f"{rng.choice(STREETS[country])} {rng.randint(1, 180)}\n"
                        f"{rng.choice(CITIES[country])}"
                    ),
                },
                "country": country,
                "currency": info.currency,
                "withdrawal_informed": rng.random() > 0.02,
                "placed_at": placed_at.isoformat(),
                "lines": lines,
            }
        )
        delivered_on_by_number[number] = delivered_on

    # One batch: every order is checked by the API's rules, then written with one flush.
    placed = orders.place_orders(
        session, batch, ACTOR, catalogue=orders.Catalogue.everything(session)
    )
    # Every shipment is new and tracked once, so nothing read on the way depends on what the
    # loop wrote: its events and ledger entries go in as one flush at the end, not one each.
    with session.no_autoflush:
        for order, _created in placed:
            delivered_on = delivered_on_by_number[order.number]
            carrier, prefix = CARRIERS[order.country_code]
            for shipment in order.shipments:
                delivered_at = None
                if delivered_on is not None:
                    delivered_at = dt.datetime.combine(
                        delivered_on, dt.time(rng.randint(9, 19), rng.randint(0, 59)), zone
                    )
                orders.apply_tracking(
                    session,
                    shipment,
                    ACTOR,
                    tracking_number=f"{prefix}{today:%y}{next(tracking_seq):09d}NL",
                    carrier=carrier,
                    delivered_at=delivered_at,
                    booked_on=delivered_on,  # the history's sales on their own days
                )
    session.flush()


def _users(session: Session, site, partners: dict[str, Partner]) -> None:
    password_hash = generate_password_hash(DEMO_PASSWORD)
    for email, name, role, partner_code in DEMO_USERS:
        partner = partners[partner_code] if partner_code else None
        session.add(
            User(
                email=email,
                name=name,
                password_hash=password_hash,
                role=role,
                partner=partner,
                site=site if role in (Role.OPERATOR, Role.SUPERVISOR) else None,
                language=partner.language if partner else "en",
            )
        )
