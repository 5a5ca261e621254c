"""Demo and benchmark cases: realistic, bilingual (German and English) customers, contracts
and complaints of Stadtwerke Rheinfeld and RheinPay, spread over the last 18 months.

This is the one place that writes rows without the services, on purpose: generating a
million cases through `case_create` would take hours. The fast path inserts prepared
rows with `executemany` in batches (one transaction per batch; on SQLite with
`PRAGMA synchronous=OFF` for the duration of the seed only), assigns case references
`LP-<year>-<6 digits>` in order of receipt per year, sets the ReferenceCounter rows
accordingly at the end, and writes one summarising audit event "seed.bulk_cases".
Reference data (case types, categories, products, tags) is created idempotently.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from leitplanke.accounts.models import Team
from leitplanke.cases import field_values
from leitplanke.cases.lifecycle import DEFAULT_LIFECYCLE
from leitplanke.cases.models import (
    Case,
    CaseFieldValue,
    CaseSearchDocument,
    CaseType,
    Category,
    CustomFieldDefinition,
    FieldKind,
    Interaction,
    ReferenceCounter,
    Tag,
    tag_key,
)
from leitplanke.cases.process import current_definition
from leitplanke.core.audit import audit_record
from leitplanke.customers.models import Contract, Customer, CustomerEmail, CustomerPhone, Product, fold_name
from leitplanke.customers.normalise import search_terms

UTC = dt.UTC

DISPUTED_AMOUNT = "amount_disputed"
CASE_TYPES = [
    ("complaint", "Beschwerde", "Complaint", True, 0),
    ("inquiry", "Anfrage", "Inquiry", False, 1),
    ("feedback", "Rückmeldung", "Feedback", False, 2),
]
# (key, parent key, German, English): the tree of migration 0003 plus one node for transfers.
CATEGORIES = [
    ("billing", None, "Abrechnung", "Billing"),
    ("billing-meter-reading", "billing", "Zählerstand", "Meter reading"),
    ("billing-instalment", "billing", "Abschlag", "Instalment"),
    ("payments", None, "Zahlungen", "Payments"),
    ("payments-transfers", "payments", "Überweisungen", "Transfers"),
    ("payments-card-fees", "payments", "Kartengebühren", "Card fees"),
    ("payments-chargeback", "payments", "Rückbuchung", "Chargeback"),
    ("service", None, "Service", "Service"),
    ("service-reachability", "service", "Erreichbarkeit", "Reachability"),
    ("service-staff-behaviour", "service", "Freundlichkeit", "Staff behaviour"),
]
# (code, German, English, sector, payment services)
PRODUCTS = [
    ("strom-basis", "Strom Basis", "Electricity Basic", "energy", False),
    ("strom-oeko", "Strom Öko", "Green Electricity", "energy", False),
    ("gas-komfort", "Gas Komfort", "Gas Comfort", "energy", False),
    ("girokonto-plus", "Girokonto Plus", "Current Account Plus", "banking", True),
    ("rheinpay-karte", "RheinPay Karte", "RheinPay Card", "payments", True),
    ("rheinpay-ueberweisung", "RheinPay Überweisung", "RheinPay Transfer", "payments", True),
]
TAGS = [
    "Rückruf erbeten",
    "Wiederholte Beschwerde",
    "Ombudsstelle",
    "Presse",
    "Social Media",
    "Kulanz",
    "VIP",
    "Datenschutz",
    "callback requested",
    "escalated",
]


@dataclass(frozen=True)
class Topic:
    key: str
    team: str
    category: str
    products: tuple[str, ...]
    weight: int
    subjects_de: tuple[str, ...]
    subjects_en: tuple[str, ...]
    texts_de: tuple[str, ...]
    texts_en: tuple[str, ...]


TOPICS = [
    Topic(
        "billing",
        "Energie-Service",
        "billing",
        ("strom-basis", "strom-oeko", "gas-komfort"),
        24,
        (
            "Jahresabrechnung {year} zu hoch",
            "Fehler in der Stromrechnung",
            "Nachzahlung von {amount} € nicht nachvollziehbar",
            "Gasabrechnung falsch berechnet",
            "Rechnung {invoice} doppelt erhalten",
        ),
        (
            "Annual bill {year} far too high",
            "Mistake on my electricity bill",
            "Back payment of €{amount} not explained",
            "Gas bill calculated incorrectly",
            "Received invoice {invoice} twice",
        ),
        (
            "Sehr geehrte Damen und Herren, meine Jahresabrechnung {invoice} weist eine Nachzahlung von {amount} € aus. "
            "Der Verbrauch von {kwh} kWh ist deutlich höher als im Vorjahr. Bitte prüfen Sie die Rechnung.",
            "Guten Tag, in der Rechnung {invoice} wurde ein falscher Arbeitspreis berechnet. Vereinbart waren {price} Cent "
            "pro kWh. Ich bitte um Korrektur und Erstattung der Differenz.",
            "Hallo, ich habe die Schlussrechnung nach meinem Umzug erhalten, aber der Zählerstand bei Auszug wurde nicht "
            "berücksichtigt. Bitte korrigieren Sie die Abrechnung.",
        ),
        (
            "Dear Sir or Madam, my annual bill {invoice} asks for a back payment of €{amount}. The consumption of {kwh} kWh "
            "is much higher than last year. Please check the bill.",
            "Hello, invoice {invoice} uses the wrong unit price. We agreed on {price} cents per kWh. Please correct it and "
            "refund the difference.",
            "Hi, I received the final bill after moving out but the meter reading on my moving date was ignored.",
        ),
    ),
    Topic(
        "meter",
        "Energie-Service",
        "billing-meter-reading",
        ("strom-basis", "strom-oeko", "gas-komfort"),
        16,
        (
            "Zählerstand falsch übernommen",
            "Zählerstand wurde geschätzt",
            "Zählerstand vom {date} fehlt",
            "Zählerwechsel nicht berücksichtigt",
        ),
        (
            "Meter reading entered incorrectly",
            "Meter reading was estimated",
            "Meter reading of {date} missing",
            "Meter replacement not taken into account",
        ),
        (
            "Guten Tag, ich habe am {date} den Zählerstand {reading} für Zähler {meter} gemeldet. In der Rechnung steht "
            "aber ein geschätzter Wert. Bitte übernehmen Sie den richtigen Zählerstand.",
            "Sehr geehrte Damen und Herren, der Zählerstand wurde offensichtlich falsch abgelesen (Zählernummer {meter}). "
            "Ein Foto des Zählers füge ich bei.",
        ),
        (
            "Hello, on {date} I submitted the meter reading {reading} for meter {meter}, but the bill shows an estimate. "
            "Please use the actual reading.",
            "Dear team, the meter reading for meter {meter} was clearly read wrongly. I attach a photo of the meter.",
        ),
    ),
    Topic(
        "instalment",
        "Energie-Service",
        "billing-instalment",
        ("strom-basis", "strom-oeko", "gas-komfort"),
        14,
        ("Abschlag zu hoch angesetzt", "Abschlagsänderung nicht umgesetzt", "Abschlag auf {amount} € erhöht"),
        ("Monthly instalment set too high", "Instalment change not applied", "Instalment raised to €{amount}"),
        (
            "Hallo, mein monatlicher Abschlag wurde ohne Begründung auf {amount} € erhöht. Mein Verbrauch ist gesunken. "
            "Bitte setzen Sie den Abschlag wieder herab.",
            "Ich hatte am {date} eine Anpassung des Abschlags beantragt, die bis heute nicht umgesetzt wurde.",
        ),
        (
            "Hello, my monthly instalment was raised to €{amount} without any reason. My consumption went down, please "
            "lower the instalment again.",
            "On {date} I asked for my instalment to be changed, and nothing has happened since.",
        ),
    ),
    Topic(
        "payment",
        "Zahlungsdienste",
        "payments-transfers",
        ("rheinpay-ueberweisung", "girokonto-plus"),
        16,
        (
            "Überweisung nicht angekommen",
            "Doppelte Abbuchung von {amount} €",
            "Zahlung abgelehnt",
            "Dauerauftrag nicht ausgeführt",
        ),
        ("Transfer never arrived", "Charged twice: €{amount}", "Payment declined", "Standing order not executed"),
        (
            "Sehr geehrte Damen und Herren, meine Überweisung über {amount} € vom {date} ist beim Empfänger nicht "
            "angekommen. Das Geld wurde aber von meinem Konto abgebucht.",
            "Guten Tag, der Betrag von {amount} € wurde zweimal abgebucht. Ich bitte um sofortige Erstattung.",
        ),
        (
            "Dear Sir or Madam, my transfer of €{amount} on {date} never reached the recipient, but the money left my account.",
            "Hello, I was charged €{amount} twice for the same payment. Please refund it immediately.",
        ),
    ),
    Topic(
        "card_fees",
        "Zahlungsdienste",
        "payments-card-fees",
        ("rheinpay-karte", "girokonto-plus"),
        10,
        ("Gebühren für RheinPay Karte unklar", "Auslandseinsatzentgelt zu hoch", "Kontoführungsgebühr erhöht"),
        ("Unexpected RheinPay card fee", "Foreign transaction fee too high", "Account fee increased"),
        (
            "Hallo, auf meiner Abrechnung erscheint eine Gebühr von {amount} € für die RheinPay Karte, die mir nie "
            "angekündigt wurde. Bitte erstatten Sie diese Gebühr.",
            "Für eine Kartenzahlung im Ausland wurde ein Entgelt von {amount} € berechnet. Das widerspricht dem "
            "Preisverzeichnis.",
        ),
        (
            "Hi, my statement shows a fee of €{amount} for the RheinPay card that was never announced. Please refund it.",
            "A card payment abroad was charged a fee of €{amount}, which contradicts your price list.",
        ),
    ),
    Topic(
        "chargeback",
        "Zahlungsdienste",
        "payments-chargeback",
        ("rheinpay-karte",),
        8,
        ("Rückbuchung einer Kartenzahlung", "Nicht autorisierte Kartenzahlung", "Händler hat nicht geliefert"),
        ("Chargeback request for a card payment", "Unauthorised card payment", "Merchant never delivered"),
        (
            "Sehr geehrte Damen und Herren, am {date} wurde meine Karte mit {amount} € belastet. Diese Zahlung habe ich "
            "nicht autorisiert. Ich beantrage die Rückbuchung.",
            "Ich habe bei einem Online-Händler {amount} € bezahlt, die Ware aber nie erhalten. Bitte leiten Sie eine "
            "Rückbuchung ein.",
        ),
        (
            "Dear team, on {date} my card was charged €{amount}. I did not authorise this payment and request a chargeback.",
            "I paid €{amount} to an online shop but never received the goods. Please start a chargeback.",
        ),
    ),
    Topic(
        "service",
        "Beschwerdemanagement",
        "service-staff-behaviour",
        ("strom-basis", "girokonto-plus", "rheinpay-karte"),
        12,
        (
            "Unfreundliche Beratung am Telefon",
            "Keine Antwort auf meine E-Mail",
            "Lange Wartezeit in der Hotline",
            "Rückruf wurde nicht eingehalten",
        ),
        ("Rude staff on the phone", "No reply to my e-mail", "Long waiting time on the hotline", "Promised call-back never came"),
        (
            "Guten Tag, ich habe am {date} in der Hotline angerufen und wurde sehr unfreundlich behandelt. Ich erwarte "
            "eine Entschuldigung.",
            "Seit drei Wochen warte ich auf eine Antwort auf meine E-Mail. Das ist nicht akzeptabel.",
        ),
        (
            "Hello, I called your hotline on {date} and was treated very rudely. I expect an apology.",
            "I have been waiting three weeks for a reply to my e-mail. This is not acceptable.",
        ),
    ),
]

FIRST_DE = [
    "Anna",
    "Lukas",
    "Mia",
    "Jonas",
    "Lea",
    "Felix",
    "Sophie",
    "Paul",
    "Hannah",
    "Jürgen",
    "Jörg",
    "Käthe",
    "Björn",
    "Günther",
    "Özlem",
    "Sören",
    "Maximilian",
    "Emilia",
    "Renate",
    "Hans-Peter",
    "Ayşe",
    "Lena",
]
LAST_DE = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Krause",
    "Lehmann",
    "Yılmaz",
    "Nowak",
]
FIRST_EN = ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Emily", "Jack", "Grace", "Thomas", "Chloe"]
LAST_EN = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "O'Brien"]
ORGANISATIONS = [
    "Bäckerei {last} GmbH",
    "{last} & Söhne KG",
    "Praxis Dr. {last}",
    "Autohaus {last} GmbH",
    "{last} Consulting Ltd",
    "Gaststätte Zum Rhein",
    "Kita Sonnenschein e. V.",
]
CITIES = [
    ("Köln", "50667", "DE-NW"),
    ("Düsseldorf", "40213", "DE-NW"),
    ("Bonn", "53111", "DE-NW"),
    ("Rheinfeld", "41539", "DE-NW"),
    ("Neuss", "41460", "DE-NW"),
    ("Leverkusen", "51373", "DE-NW"),
    ("Koblenz", "56068", "DE-RP"),
]
STREETS = ["Hauptstraße", "Rheinuferstraße", "Am Güterbahnhof", "Schillerstraße", "Kölner Straße", "Lindenweg"]
NOTES_DE = [
    "Kunde telefonisch informiert.",
    "Rückfrage an die Abrechnung gestellt.",
    "Unterlagen geprüft, Fehler bestätigt.",
    "Gutschrift veranlasst.",
    "Stellungnahme des Fachbereichs angefordert.",
]
NOTES_EN = [
    "Called the customer back.",
    "Asked billing for a statement.",
    "Checked the documents, error confirmed.",
    "Credit note issued.",
    "Requested a statement from the specialist team.",
]
REPLIES_DE = [
    "Sehr geehrte Kundin, sehr geehrter Kunde, vielen Dank für Ihre Nachricht. Wir prüfen Ihr Anliegen und melden uns.",
    "Guten Tag, wir haben Ihre Abrechnung korrigiert. Die Gutschrift erhalten Sie in den nächsten Tagen.",
]
REPLIES_EN = [
    "Dear customer, thank you for your message. We are looking into it and will get back to you.",
    "Hello, we have corrected your bill. You will receive the credit within the next few days.",
]
TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i", "ş": "s", "'": "", " ": "", "-": ""})


@dataclass
class SeedResult:
    cases: int
    customers: int
    interactions: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


# --- low-level insert ------------------------------------------------------------------------


class _Insert:
    """INSERT … VALUES via executemany for prepared rows of one model.

    Values are adapted once per column kind (datetimes, dates, JSON); columns the caller
    leaves out get their model default, so a field added later does not break the seed.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        self.columns = list(columns)
        extra = [
            f
            for name, f in fields.items()
            if name not in self.columns and not (f.primary_key and f.auto_created) and not getattr(f, "generated", False)
        ]
        self.constants = tuple(self._default(f) for f in extra)
        all_columns = self.columns + [f.attname for f in extra]
        names = ", ".join(connection.ops.quote_name(str(fields[c].column)) for c in all_columns)
        marks = ", ".join(["%s"] * len(all_columns))
        self.sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
        self.adapters: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(self.columns):
            field = fields[name]
            if isinstance(field, models.DateTimeField):
                self.adapters.append((index, _datetime_adapter()))
            elif isinstance(field, models.DateField):
                self.adapters.append((index, connection.ops.adapt_datefield_value))
            elif isinstance(field, models.JSONField):
                self.adapters.append((index, _json_adapter(field)))

    @staticmethod
    def _default(field: models.Field) -> Any:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value: Any = timezone.now()
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            value = ""
        return field.get_db_prep_save(value, connection)

    def run(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        adapters, constants = self.adapters, self.constants
        prepared = []
        for row in rows:
            for index, adapt in adapters:
                if row[index] is not None:
                    row[index] = adapt(row[index])
            prepared.append((*row, *constants))
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, prepared)


def _json_adapter(field: models.Field) -> Callable[[Any], Any]:
    def adapt(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return adapt


def _datetime_adapter() -> Callable[[Any], Any]:
    """SQLite stores naive UTC text; the seed's datetimes are all aware UTC, so the
    conversion is one replace + isoformat (Django's generic adapter is 5× slower)."""
    if connection.vendor == "sqlite":
        return lambda value: value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return connection.ops.adapt_datetimefield_value


def _next_id(model: type[models.Model]) -> int:
    return (model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def _reset_sequences(model_list: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


# --- reference data ----------------------------------------------------------------------------


def ensure_reference_data() -> dict[str, Any]:
    """Case types, the category tree, products and tags used by the demo (idempotent)."""
    with transaction.atomic():
        case_types = {}
        for key, name_de, name_en, is_complaint, order in CASE_TYPES:
            case_types[key], _ = CaseType.objects.get_or_create(
                key=key, defaults={"name_de": name_de, "name_en": name_en, "is_complaint": is_complaint, "order": order}
            )
        # Stadtwerke Rheinfeld supplies energy: complaints run the EnWG § 111a clock too.
        complaint = case_types.get("complaint")
        if complaint is not None and "enwg_111a" not in complaint.deadline_rules:
            complaint.deadline_rules = ["enwg_111a", *complaint.deadline_rules]
            complaint.save(update_fields=["deadline_rules"])
        categories: dict[str, Category] = {}
        for key, parent_key, name_de, name_en in CATEGORIES:
            category = Category.objects.filter(key=key).first()
            if category is None:
                parent = categories.get(parent_key) if parent_key else None
                category = Category.objects.create(
                    key=key, parent=parent, name_de=name_de, name_en=name_en, depth=(parent.depth + 1) if parent else 0, path=""
                )
                category.path = f"{parent.path if parent else ''}{category.pk}/"
                category.save(update_fields=["path"])
            categories[key] = category
        # The amount a customer disputes: a money field on complaints, so that the case list
        # can filter by it (from/to) and the form asks for it.
        CustomFieldDefinition.objects.get_or_create(
            case_type=case_types["complaint"],
            key=DISPUTED_AMOUNT,
            defaults={"label_de": "Strittiger Betrag", "label_en": "Disputed amount", "kind": FieldKind.MONEY},
        )
        products = {}
        for code, name_de, name_en, sector, psd2 in PRODUCTS:
            products[code], _ = Product.objects.get_or_create(
                code=code, defaults={"name_de": name_de, "name_en": name_en, "sector": sector, "payment_services": psd2}
            )
        tags = {}
        for name in TAGS:
            tags[name], _ = Tag.objects.get_or_create(name_key=tag_key(name), defaults={"name": name})
    return {"case_types": case_types, "categories": categories, "products": products, "tags": tags}


# --- generation --------------------------------------------------------------------------------


def _weighted(rng: random.Random, table: Sequence[tuple[Any, int]], k: int) -> list[Any]:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights, k=k)


def _phone(rng: random.Random, english: bool) -> str:
    if english:
        return f"+447{rng.randrange(100_000_000, 999_999_999)}"
    if rng.random() < 0.6:
        return f"+4915{rng.randrange(1, 8)}{rng.randrange(10_000_000, 99_999_999)}"
    return f"+49221{rng.randrange(1_000_000, 9_999_999)}"


def _create_customers(
    rng: random.Random, count: int, products: dict[str, Product], now: dt.datetime
) -> list[tuple[int, str, str, list[tuple[int, int]], str]]:
    """Customers with e-mail, phone and 1–2 contracts; returns (id, display name, language, contracts)."""
    customer_start, contract_start = _next_id(Customer), _next_id(Contract)
    customer_insert = _Insert(
        Customer,
        [
            "id",
            "kind",
            "customer_number",
            "first_name",
            "last_name",
            "organisation_name",
            "display_name",
            "name_key",
            "preferred_language",
            "segment",
            "customer_since",
            "street",
            "postal_code",
            "city",
            "country",
            "region",
            "created_at",
            "updated_at",
        ],
    )
    email_insert = _Insert(CustomerEmail, ["customer_id", "address", "is_primary"])
    phone_insert = _Insert(CustomerPhone, ["customer_id", "number", "kind", "is_primary"])
    contract_insert = _Insert(Contract, ["id", "customer_id", "product_id", "contract_number", "starts_on", "status"])
    product_list = list(products.values())
    out = []
    contract_id = contract_start
    for batch_start in range(0, count, 5000):
        customers: list[Any] = []
        emails: list[Any] = []
        phones: list[Any] = []
        contracts: list[Any] = []
        for i in range(batch_start, min(count, batch_start + 5000)):
            cid = customer_start + i
            english = rng.random() < 0.2
            first = rng.choice(FIRST_EN if english else FIRST_DE)
            last = rng.choice(LAST_EN if english else LAST_DE)
            if rng.random() < 0.06:
                kind, org = "organisation", rng.choice(ORGANISATIONS).format(last=last)
                display, segment, first_name, last_name = org, "business", "", ""
                local = org.lower().translate(TRANSLIT)[:20].replace(".", "").replace("&", "")
            else:
                kind, org, display = "person", "", f"{last}, {first}"
                segment = "premium" if rng.random() < 0.05 else "private"
                first_name, last_name = first, last
                local = f"{first}.{last}".lower().translate(TRANSLIT)
            language = "en" if english else "de"
            city, postal, region = ("London", "SW1A 1AA", "GB-ENG") if english and rng.random() < 0.5 else rng.choice(CITIES)
            country = "GB" if region.startswith("GB") else "DE"
            since = (now - dt.timedelta(days=rng.randrange(200, 4000))).date()
            customers.append(
                [
                    cid,
                    kind,
                    f"K{cid:08d}",
                    first_name,
                    last_name,
                    org,
                    display,
                    fold_name(display),
                    language,
                    segment,
                    since,
                    f"{rng.choice(STREETS)} {rng.randrange(1, 120)}",
                    postal,
                    city,
                    country,
                    region,
                    now,
                    now,
                ]
            )
            address = f"{local}{cid}@example.{'co.uk' if english else 'de'}"
            emails.append([cid, address, True])
            phone_numbers = [_phone(rng, english)] if rng.random() < 0.75 else []
            phones.extend([cid, number, "mobile", True] for number in phone_numbers)
            names = [display] + [name for name in (first_name, last_name) if name]
            terms = search_terms(names=names, customer_number=f"K{cid:08d}", emails=[address], phones=phone_numbers)
            own = []
            for _ in range(1 if rng.random() < 0.6 else 2):
                product = rng.choice(product_list)
                contracts.append([contract_id, cid, product.pk, f"V{contract_id:09d}", since, "active"])
                own.append((contract_id, product.pk))
                contract_id += 1
            out.append((cid, display, language, own, terms))
        with transaction.atomic():
            customer_insert.run(customers)
            email_insert.run(emails)
            phone_insert.run(phones)
            contract_insert.run(contracts)
    return out


def _cumulative(table: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    values, running, total = [], [], 0
    for value, weight in table:
        total += weight
        values.append(value)
        running.append(total)
    return values, running


# Older cases are mostly closed; recent ones mostly open.
STATUS_OLD = _cumulative([("closed", 85), ("resolved", 8), ("in_progress", 4), ("waiting_customer", 3)])
STATUS_MID = _cumulative([("closed", 40), ("resolved", 20), ("in_progress", 20), ("waiting_customer", 15), ("new", 5)])
STATUS_NEW = _cumulative([("new", 35), ("in_progress", 35), ("waiting_customer", 15), ("resolved", 10), ("closed", 5)])


def _status_for(rng: random.Random, age_days: float) -> str:
    values, cumulative = STATUS_OLD if age_days > 60 else STATUS_MID if age_days > 14 else STATUS_NEW
    return rng.choices(values, cum_weights=cumulative)[0]


def _fill(template: str, rng: random.Random, received: dt.datetime) -> str:
    if "{" not in template:
        return template
    return template.format(
        year=received.year - 1,
        amount=f"{rng.randrange(12, 900)},{rng.randrange(0, 99):02d}",
        invoice=f"RE-{received.year}-{rng.randrange(100000, 999999)}",
        kwh=rng.randrange(1200, 9000),
        price=f"{rng.randrange(28, 45)},{rng.randrange(0, 9)}",
        date=(received - dt.timedelta(days=rng.randrange(3, 40))).strftime("%d.%m.%Y"),
        reading=f"{rng.randrange(1000, 99999)}",
        meter=f"1ESY{rng.randrange(10**7, 10**8)}",
    )


def seed_demo_cases(
    n: int = 2000, seed: int = 42, *, batch_size: int = 5000, progress: Callable[[int, int, float], None] | None = None
) -> SeedResult:
    """Generates `n` realistic cases with customers, contracts, timelines and search documents.

    Fast: rows are prepared in Python with few operations each and inserted per batch.
    Deterministic for a given `seed` on an empty database.
    """
    started = time.monotonic()
    rng = random.Random(seed)
    now = timezone.now().astimezone(UTC).replace(microsecond=0)
    refs = ensure_reference_data()
    case_types, categories, products, tag_objects = refs["case_types"], refs["categories"], refs["products"], refs["tags"]
    teams = {team.name: team for team in Team.objects.prefetch_related("members")}
    members = {name: [user.pk for user in team.members.all()] for name, team in teams.items()}
    states = {state.key: state.kind for state in DEFAULT_LIFECYCLE.states}
    vendor = connection.vendor
    # Durability traded for speed during the seed only (a crash means: seed again). SQLite
    # refuses the change inside a transaction (tests), where it would not matter anyway.
    relax = vendor == "sqlite" and not connection.in_atomic_block
    if relax:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
    try:
        customers = _create_customers(rng, max(10, n // 4), products, now)
        interactions = _create_cases(
            rng,
            n,
            now,
            batch_size,
            customers,
            case_types,
            categories,
            products,
            tag_objects,
            teams,
            members,
            states,
            progress,
            started,
        )
        if vendor == "postgresql":
            _reset_sequences([Customer, Contract, Case])
        # A Decimal, not a float: audit snapshots refuse floats (their JSON text is not stable).
        seconds = decimal.Decimal(time.monotonic() - started).quantize(decimal.Decimal("0.01"))
        with transaction.atomic():
            audit_record(
                actor=None,
                action="seed.bulk_cases",
                object_type="cases.case",
                after={"cases": n, "customers": len(customers), "interactions": interactions, "seed": seed, "seconds": seconds},
            )
    finally:
        if relax:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
    return SeedResult(cases=n, customers=len(customers), interactions=interactions, seconds=round(time.monotonic() - started, 2))


def _create_cases(
    rng: random.Random,
    n: int,
    now: dt.datetime,
    batch_size: int,
    customers: list,
    case_types: dict,
    categories: dict,
    products: dict,
    tag_objects: dict,
    teams: dict,
    members: dict,
    states: dict,
    progress: Callable[[int, int, float], None] | None,
    started: float,
) -> int:
    span = 548 * 86400  # 18 months
    offsets = sorted((rng.random() for _ in range(n)), reverse=True)
    received_all = [now - dt.timedelta(seconds=int(span * offset) + 60) for offset in offsets]
    counters = {c.year: c.last_value for c in ReferenceCounter.objects.all()}
    case_start = _next_id(Case)
    topics = TOPICS
    topic_weights = [t.weight for t in topics]
    type_keys = _weighted(rng, [("complaint", 70), ("inquiry", 20), ("feedback", 10)], n)
    channels = _weighted(rng, [("email", 40), ("web_form", 25), ("phone", 20), ("letter", 8), ("chat", 5), ("social", 2)], n)
    priorities = _weighted(rng, [(1, 15), (2, 60), (3, 20), (4, 5)], n)
    severities = _weighted(rng, [("minor", 50), ("moderate", 35), ("major", 12), ("critical", 3)], n)
    chosen_topics = rng.choices(topics, weights=topic_weights, k=n)
    tag_ids = [tag.pk for tag in tag_objects.values()]
    product_ids = {code: p.pk for code, p in products.items()}
    case_insert = _Insert(
        Case,
        [
            "id",
            "reference",
            "case_type_id",
            "subject",
            "description",
            "channel",
            "language",
            "received_at",
            "registered_at",
            "customer_id",
            "contract_id",
            "product_id",
            "category_id",
            "priority",
            "severity",
            "status",
            "status_kind",
            "responsible_user_id",
            "team_id",
            "custom_fields",
            "updated_at",
            "closed_at",
            "last_activity_at",
            "version",
            "process_version_id",
        ],
    )
    # Every seeded case runs on the published version of its type's process (the statuses
    # seeded are states of every shipped process under the same key and kind).
    process_ids = {key: getattr(current_definition(case_type), "pk", None) for key, case_type in case_types.items()}
    interaction_insert = _Insert(
        Interaction,
        ["case_id", "kind", "occurred_at", "author_id", "author_label", "channel", "subject", "body_text", "data", "is_internal"],
    )
    document_insert = _Insert(CaseSearchDocument, ["case_id", "text", "updated_at"])
    # The typed row of each disputed amount, as cases.field_values writes it (ADR 0025).
    value_insert = _Insert(CaseFieldValue, ["case_id", "definition_id", "number", "date"])
    disputed = CustomFieldDefinition.objects.filter(case_type=case_types["complaint"], key=DISPUTED_AMOUNT).first()
    tag_insert = _Insert(Case.tags.through, ["case_id", "tag_id"])
    interactions_total = 0
    for batch_start in range(0, n, batch_size):
        case_rows, interaction_rows, document_rows, tag_rows, value_rows = [], [], [], [], []
        for i in range(batch_start, min(n, batch_start + batch_size)):
            case_id = case_start + i
            received = received_all[i]
            year = received.year
            counters[year] = counters.get(year, 0) + 1
            topic = chosen_topics[i]
            customer_id, customer_name, language, contracts, customer_terms = rng.choice(customers)
            english = language == "en"
            subject = _fill(rng.choice(topic.subjects_en if english else topic.subjects_de), rng, received)
            description = _fill(rng.choice(topic.texts_en if english else topic.texts_de), rng, received)
            product_code = rng.choice(topic.products)
            product_id = product_ids[product_code]
            contract_id = next((c for c, p in contracts if p == product_id), None)
            age_days = (now - received).total_seconds() / 86400
            status = _status_for(rng, age_days)
            team = teams.get(topic.team)
            team_members = members.get(topic.team) or []
            responsible = rng.choice(team_members) if team_members and rng.random() < 0.8 else None
            handled = min(now, received + dt.timedelta(hours=rng.randrange(2, 24 * 30)))
            closed_at = handled if status == "closed" else None
            custom = {}
            if topic.key in ("payment", "chargeback"):
                amount = {"amount": f"{rng.randrange(5, 900)}.00", "currency": "EUR"}  # as cases.services stores money
                custom = {DISPUTED_AMOUNT: amount} if type_keys[i] == "complaint" else {}
                typed = field_values.typed_value(FieldKind.MONEY, amount)
                if custom and disputed is not None and typed is not None:
                    value_rows.append([case_id, disputed.pk, *typed])
            reference = f"LP-{year}-{counters[year]:06d}"
            case_rows.append(
                [
                    case_id,
                    reference,
                    case_types[type_keys[i]].pk,
                    subject,
                    description,
                    channels[i],
                    language,
                    received,
                    received + dt.timedelta(minutes=rng.randrange(1, 90)),
                    customer_id,
                    contract_id,
                    product_id,
                    categories[topic.category].pk,
                    priorities[i],
                    severities[i],
                    status,
                    states[status],
                    responsible,
                    team.pk if team else None,
                    custom,
                    handled,
                    closed_at,
                    handled,
                    1,
                    process_ids[type_keys[i]],
                ]
            )
            interaction_rows.append(
                [case_id, "inbound_message", received, None, customer_name, channels[i], subject, description, {}, False]
            )
            extra = rng.randrange(0, 5)
            step = (handled - received) / (extra + 1)
            for k in range(1, extra + 1):
                at = received + step * k
                kind = (
                    "status_change"
                    if k == extra and status != "new"
                    else rng.choice(("internal_note", "outbound_message", "phone_note"))
                )
                if kind == "status_change":
                    interaction_rows.append([case_id, kind, at, responsible, "", "", "", "", {"from": "new", "to": status}, True])
                elif kind == "outbound_message":
                    interaction_rows.append(
                        [
                            case_id,
                            kind,
                            at,
                            responsible,
                            "",
                            channels[i],
                            f"Re: {subject}",
                            rng.choice(REPLIES_EN if english else REPLIES_DE),
                            {},
                            False,
                        ]
                    )
                else:
                    interaction_rows.append(
                        [case_id, kind, at, responsible, "", "", "", rng.choice(NOTES_EN if english else NOTES_DE), {}, True]
                    )
            document_rows.append([case_id, f"{reference}\n{customer_terms}\n{subject}\n{description}", handled])
            if rng.random() < 0.25:
                tag_rows.append([case_id, rng.choice(tag_ids)])
        with transaction.atomic():
            case_insert.run(case_rows)
            interaction_insert.run(interaction_rows)
            document_insert.run(document_rows)
            tag_insert.run(tag_rows)
            value_insert.run(value_rows)
        interactions_total += len(interaction_rows)
        if progress is not None:
            progress(min(n, batch_start + batch_size), n, time.monotonic() - started)
    with transaction.atomic():
        for year, last_value in counters.items():
            ReferenceCounter.objects.update_or_create(year=year, defaults={"last_value": last_value})
    return interactions_total


def demo_cases_present() -> bool:
    return Case.objects.exists()
