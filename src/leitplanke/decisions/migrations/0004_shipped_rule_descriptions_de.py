"""German rule descriptions (`_description_de`) for the shipped tables' rules.

A rule's description is not evaluated: adding its German text changes no outcome, so the
installed versions (published ones included) get it in place. Only rules that are still as
shipped are touched: same `_id` and the same English `_description` as the shipped file, no
German text yet — an organisation's own wording is left alone. Each changed version's revision
goes up (its ETag and the compiled-table cache follow the content).
"""

from django.db import migrations


def _table_node(jdm):
    nodes = jdm.get("nodes") if isinstance(jdm, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and node.get("type") == "decisionTableNode" and isinstance(node.get("content"), dict):
            return node
    return None


def _shipped_texts(shipped, key):
    node = _table_node(shipped.jdm(key))
    return {
        rule["_id"]: (rule.get("_description", ""), rule.get("_description_de", ""))
        for rule in node["content"]["rules"]
        if rule.get("_description_de")
    }


def forward(apps, schema_editor):
    from leitplanke.decisions import shipped

    DecisionTable = apps.get_model("decisions", "DecisionTable")
    for key in shipped.KEYS:
        texts = _shipped_texts(shipped, key)
        for table in DecisionTable.objects.filter(key=key):
            node = _table_node(table.jdm)
            rules = node["content"].get("rules") if node else None
            changed = False
            for rule in rules if isinstance(rules, list) else []:
                if not isinstance(rule, dict) or rule.get("_description_de"):
                    continue
                english, german = texts.get(rule.get("_id"), (None, ""))
                if german and rule.get("_description") == english:
                    rule["_description_de"] = german
                    changed = True
            if changed:
                table.revision += 1
                table.save(update_fields=["jdm", "revision", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [("decisions", "0003_simulation_and_indexes")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
