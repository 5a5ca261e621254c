"""Full-text search over CaseSearchDocument.text.

PostgreSQL: a generated tsvector column (German + English configurations) with a GIN index.
SQLite: an external-content FTS5 table kept in sync by triggers (rowid = case id).
"""

from django.db import migrations

PG_FORWARD = [
    """ALTER TABLE cases_casesearchdocument ADD COLUMN vector tsvector
       GENERATED ALWAYS AS (to_tsvector('german', text) || to_tsvector('english', text)) STORED""",
    "CREATE INDEX cases_search_vector_gin ON cases_casesearchdocument USING GIN (vector)",
]
PG_REVERSE = [
    "DROP INDEX IF EXISTS cases_search_vector_gin",
    "ALTER TABLE cases_casesearchdocument DROP COLUMN IF EXISTS vector",
]
SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE cases_search_fts USING fts5(
         text, content='cases_casesearchdocument', content_rowid='case_id',
         tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER cases_search_ai AFTER INSERT ON cases_casesearchdocument BEGIN
         INSERT INTO cases_search_fts(rowid, text) VALUES (new.case_id, new.text); END""",
    """CREATE TRIGGER cases_search_ad AFTER DELETE ON cases_casesearchdocument BEGIN
         INSERT INTO cases_search_fts(cases_search_fts, rowid, text) VALUES ('delete', old.case_id, old.text); END""",
    """CREATE TRIGGER cases_search_au AFTER UPDATE ON cases_casesearchdocument BEGIN
         INSERT INTO cases_search_fts(cases_search_fts, rowid, text) VALUES ('delete', old.case_id, old.text);
         INSERT INTO cases_search_fts(rowid, text) VALUES (new.case_id, new.text); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS cases_search_au",
    "DROP TRIGGER IF EXISTS cases_search_ad",
    "DROP TRIGGER IF EXISTS cases_search_ai",
    "DROP TABLE IF EXISTS cases_search_fts",
]


def _run(schema_editor, statements):
    for statement in statements:
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(schema_editor, PG_FORWARD if vendor == "postgresql" else SQLITE_FORWARD if vendor == "sqlite" else [])


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _run(schema_editor, PG_REVERSE if vendor == "postgresql" else SQLITE_REVERSE if vendor == "sqlite" else [])


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
