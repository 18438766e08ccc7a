"""Catalogue search: which items and versions a few typed characters find.

On PostgreSQL every branch is answered from an index made by migration 0010: trigram GIN indexes
(gin_trgm_ops) serve `ILIKE '%text%'` over each field, which finds Chinese (no word breaks) and partial
identifiers; an English full-text index finds words by their stem ("bridges" finds "bridge"). A trigram index
cannot serve a query of two characters (it holds no trigram), and two characters are a whole word in Chinese,
so a GIN index of each row's two-character pieces (a stored column, `dupfinder_bigrams`) serves those.
Elsewhere (SQLite, the demo) the same fields are searched with `icontains`.
"""

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from collections_app.models import Item, Version

# Item fields searched as text: the curated Dublin Core fields a user would type part of.
ITEM_TEXT_FIELDS = ("identifier", "title", "title_zh", "creator", "description")
# As the migration indexes them; subjects is a JSON list, searched as its text.
_ITEM_TRIGRAM_SQL = ITEM_TEXT_FIELDS + ("(subjects::text)",)
# Columns PostgreSQL computes and stores (migration 0010), so the index's re-check reads rather than recomputes.
_ITEM_BIGRAM_SQL = "search_bigrams"
_ITEM_FULLTEXT_SQL = "search_fulltext"
_FILENAME_BIGRAM_SQL = "filename_bigrams"


def like_pattern(text: str) -> str:
    """`%text%` with the wildcards a user typed matched as themselves."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _item_field_sql(text: str) -> tuple[str, list]:
    """SQL selecting the ids of items whose own fields hold `text`."""
    table = Item._meta.db_table
    if len(text) == 2:
        return f"SELECT id FROM {table} WHERE {_ITEM_BIGRAM_SQL} @> ARRAY[lower(%s)]", [text]
    pattern = like_pattern(text)
    where = " OR ".join(f"{column} ILIKE %s" for column in _ITEM_TRIGRAM_SQL)
    sql = f"SELECT id FROM {table} WHERE {where}"
    fulltext = f"SELECT id FROM {table} WHERE {_ITEM_FULLTEXT_SQL} @@ plainto_tsquery('english'::regconfig, %s)"
    return f"{sql} UNION {fulltext}", [pattern] * len(_ITEM_TRIGRAM_SQL) + [text]


def _filename_sql(text: str, column: str) -> tuple[str, list]:
    """SQL selecting `column` (id or item_id) of versions whose original file name holds `text`."""
    table = Version._meta.db_table
    if len(text) == 2:
        return f"SELECT {column} FROM {table} WHERE {_FILENAME_BIGRAM_SQL} @> ARRAY[lower(%s)]", [text]
    return f"SELECT {column} FROM {table} WHERE original_filename ILIKE %s", [like_pattern(text)]


def _item_fields_q(text: str) -> Q:
    q = Q(subjects__icontains=text)
    for field in ITEM_TEXT_FIELDS:
        q |= Q(**{f"{field}__icontains": text})
    return q


def items_search(*, queryset: QuerySet[Item], text: str) -> QuerySet[Item]:
    """The items of `queryset` whose fields, or the file name of one of whose versions, hold `text`."""
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor != "postgresql":
        by_filename = Version.objects.filter(original_filename__icontains=text).values("item_id")
        return queryset.filter(_item_fields_q(text) | Q(pk__in=by_filename))
    fields_sql, fields_params = _item_field_sql(text)
    names_sql, names_params = _filename_sql(text, "item_id")
    return queryset.filter(pk__in=RawSQL(f"{fields_sql} UNION {names_sql}", [*fields_params, *names_params]))


def versions_search(*, queryset: QuerySet[Version], text: str) -> QuerySet[Version]:
    """The versions of `queryset` whose file name holds `text`, or whose item's fields do."""
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor != "postgresql":
        items = Item.objects.filter(_item_fields_q(text)).values("pk")
        return queryset.filter(Q(original_filename__icontains=text) | Q(item_id__in=items))
    fields_sql, fields_params = _item_field_sql(text)
    names_sql, names_params = _filename_sql(text, "id")
    # One UNION of ids, not an OR of two IN lists: an OR would read every version to test both.
    of_items = f"SELECT id FROM {Version._meta.db_table} WHERE item_id IN ({fields_sql})"
    return queryset.filter(pk__in=RawSQL(f"{names_sql} UNION {of_items}", [*names_params, *fields_params]))
