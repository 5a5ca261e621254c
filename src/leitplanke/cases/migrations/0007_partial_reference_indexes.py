"""Contract, product and parent are empty on most cases: their full indexes become partial
ones (WHERE … IS NOT NULL), so a case without them adds no index entry; a lookup by one of
them (`= x`, `IN (…)`) implies NOT NULL, so PostgreSQL and SQLite still use the index.
The index on created_by goes: nothing reads cases by creator. The old indexes are dropped
by name: AlterField would rebuild the whole table on SQLite."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Django's names for the single-column foreign-key indexes (the same on both databases).
OLD_INDEXES = {
    "contract_id": "cases_case_contract_id_786a238a",
    "created_by_id": "cases_case_created_by_id_91d115ec",
    "parent_id": "cases_case_parent_id_30365dcb",
    "product_id": "cases_case_product_id_c9ed5517",
}


def drop(column: str) -> migrations.RunSQL:
    name = OLD_INDEXES[column]
    return migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', reverse_sql=f'CREATE INDEX "{name}" ON "cases_case" ("{column}")')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_default_roles_and_organisation"),
        ("cases", "0006_fewer_write_indexes"),
        ("customers", "0002_customer_name_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="contract",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="customers.contract",
                        verbose_name="contract",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="created_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="parent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="children",
                        to="cases.case",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="product",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="customers.product",
                        verbose_name="product",
                    ),
                ),
            ],
            database_operations=[drop(column) for column in OLD_INDEXES],
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(condition=models.Q(("contract__isnull", False)), fields=["contract"], name="case_contract_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(condition=models.Q(("product__isnull", False)), fields=["product"], name="case_product_idx"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(condition=models.Q(("parent__isnull", False)), fields=["parent"], name="case_parent_idx"),
        ),
    ]
