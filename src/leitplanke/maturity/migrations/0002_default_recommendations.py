from django.db import migrations


def create(apps, schema_editor):
    """The shipped recommendation library; existing entries (edited by administrators) stay."""
    from leitplanke.maturity.engine.library import DEFAULT_RULES

    Recommendation = apps.get_model("maturity", "Recommendation")
    for rule in DEFAULT_RULES:
        Recommendation.objects.get_or_create(
            key=rule.key,
            defaults={
                "dimension": rule.dimension,
                "levels": list(rule.levels),
                "tension": rule.tension,
                "horizon": rule.horizon,
                "title_de": rule.title.de,
                "title_en": rule.title.en,
                "text_de": rule.text.de,
                "text_en": rule.text.en,
                "owner_de": rule.owner.de,
                "owner_en": rule.owner.en,
                "indicator_de": rule.indicator.de,
                "indicator_en": rule.indicator.en,
                "kpi": rule.kpi,
                "priority": rule.priority,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("maturity", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
