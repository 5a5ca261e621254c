"""Search documents carry the customer's words (names folded, number, e-mail addresses,
phone numbers) after the reference, so that the case search finds a case by its customer
(issue 23). Existing documents get them here, in batches; new and changed ones through
`cases.services._search_head`."""

from django.db import migrations

from leitplanke.customers.normalise import search_terms

BATCH = 2000


def forward(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Document = apps.get_model("cases", "CaseSearchDocument")
    Customer = apps.get_model("customers", "Customer")
    Email = apps.get_model("customers", "CustomerEmail")
    Phone = apps.get_model("customers", "CustomerPhone")
    terms_of: dict[int, str] = {}

    def terms(customer_id: int) -> str:
        if customer_id not in terms_of:
            row = Customer.objects.filter(pk=customer_id).values(
                "display_name", "first_name", "last_name", "organisation_name", "customer_number"
            ).first()
            if row is None:
                terms_of[customer_id] = ""
            else:
                names, seen = [], set()
                for name in (row["display_name"], row["first_name"], row["last_name"], row["organisation_name"]):
                    if name and name.casefold() not in seen:
                        seen.add(name.casefold())
                        names.append(name)
                terms_of[customer_id] = search_terms(
                    names=names,
                    customer_number=row["customer_number"],
                    emails=list(Email.objects.filter(customer_id=customer_id).order_by("id").values_list("address", flat=True)),
                    phones=list(Phone.objects.filter(customer_id=customer_id).order_by("id").values_list("number", flat=True)),
                )
        return terms_of[customer_id]

    last = 0
    while True:
        rows = list(
            Case.objects.filter(pk__gt=last, customer_id__isnull=False).order_by("pk").values_list("pk", "reference", "customer_id")[:BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        documents = {d.pk: d for d in Document.objects.filter(pk__in=[r[0] for r in rows])}
        changed = []
        for case_id, reference, customer_id in rows:
            document = documents.get(case_id)
            words = terms(customer_id)
            if document is None or not words or not document.text.startswith(reference + "\n"):
                continue
            rest = document.text[len(reference) + 1 :]
            if rest.startswith(words + "\n"):
                continue
            document.text = f"{reference}\n{words}\n{rest}"
            changed.append(document)
        Document.objects.bulk_update(changed, ["text"])
        if len(terms_of) > 50_000:
            terms_of.clear()


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_processes_and_closing"), ("customers", "0002_customer_name_key")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)]
