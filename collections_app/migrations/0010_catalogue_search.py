"""Indexes for catalogue search (collections_app/search.py writes its SQL exactly as these are written).

PostgreSQL only: pg_trgm with a trigram GIN index per searched field (ILIKE '%text%', for Chinese and partial
identifiers); for two-character queries, which hold no trigram, a stored column of each row's two-character
pieces with a GIN index; and a stored English full-text vector with its GIN index. The stored columns are
PostgreSQL's own (GENERATED ... STORED), unknown to the models. On SQLite (the demo) nothing is made and search falls back to icontains. The indexes
are not in the models' Meta because SQLite cannot build them; the item list's sort index is.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

ITEM_TRIGRAM_FIELDS = ("identifier", "title", "title_zh", "creator", "description")

BIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION dupfinder_bigrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
    FROM generate_series(1, length(t) - 1) AS i
$$
"""

ITEM_BIGRAMS = (
    "dupfinder_bigrams(lower(identifier || ' ' || title || ' ' || title_zh || ' ' || creator || ' ' "
    "|| description || ' ' || subjects::text))"
)
ITEM_FULLTEXT = "to_tsvector('english'::regconfig, title || ' ' || creator || ' ' || description)"
# Stored, so that re-checking a row the index found reads the value instead of computing it again.
GENERATED_COLUMNS = [
    ("collections_app_item", "search_bigrams", "text[]", ITEM_BIGRAMS),
    ("collections_app_item", "search_fulltext", "tsvector", ITEM_FULLTEXT),
    ("collections_app_version", "filename_bigrams", "text[]", "dupfinder_bigrams(lower(original_filename))"),
]
# (table, index name, indexed expression, GIN operator class or "")
EXPRESSION_INDEXES = [
    ("collections_app_item", "item_subjects_trgm", "(subjects::text)", "gin_trgm_ops"),
    *((table, f"{column}_gin", column, "") for table, column, _type, _sql in GENERATED_COLUMNS),
]


def _postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def create_search_indexes(apps, schema_editor) -> None:
    """The GIN indexes alone (bench/search_scale.py builds them after filling the tables)."""
    item = apps.get_model("collections_app", "Item")
    version = apps.get_model("collections_app", "Version")
    for field in ITEM_TRIGRAM_FIELDS:
        schema_editor.add_index(item, GinIndex(fields=[field], name=f"item_{field}_trgm", opclasses=["gin_trgm_ops"]))
    schema_editor.add_index(
        version, GinIndex(fields=["original_filename"], name="version_filename_trgm", opclasses=["gin_trgm_ops"])
    )
    for table, name, expression, opclass in EXPRESSION_INDEXES:
        schema_editor.execute(f"CREATE INDEX {name} ON {table} USING gin (({expression}) {opclass})")


def drop_search_indexes(apps, schema_editor) -> None:
    names = [f"item_{f}_trgm" for f in ITEM_TRIGRAM_FIELDS] + ["version_filename_trgm"]
    names += [name for _table, name, _sql, _opclass in EXPRESSION_INDEXES]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def forwards(apps, schema_editor) -> None:
    if not _postgresql(schema_editor):
        return
    schema_editor.execute(BIGRAMS_FUNCTION)
    for table, column, sql_type, expression in GENERATED_COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} {sql_type} GENERATED ALWAYS AS ({expression}) STORED"
        )
    create_search_indexes(apps, schema_editor)


def backwards(apps, schema_editor) -> None:
    if not _postgresql(schema_editor):
        return
    drop_search_indexes(apps, schema_editor)
    for table, column, _type, _sql in GENERATED_COLUMNS:
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")
    schema_editor.execute("DROP FUNCTION IF EXISTS dupfinder_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0009_alter_item_identifier"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="item",
            index=models.Index(fields=["-created_at", "-id"], name="item_newest_first"),
        ),
        migrations.AddIndex(
            model_name="version",
            index=models.Index(fields=["-uploaded_at", "-id"], name="version_newest_first"),
        ),
    ]
