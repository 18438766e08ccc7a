"""Catalogue search: which items and versions a few typed characters find.

On PostgreSQL every branch is answered from an index made by migration 0010: trigram GIN indexes
(gin_trgm_ops) serve `ILIKE '%text%'` over each field, which finds Chinese (no word breaks) and partial
identifiers; an English full-text index finds words by their stem ("bridges" finds "bridge"). A trigram index
cannot serve a query of two characters (it holds no trigram), and two characters are a whole word in Chinese,
so a GIN index of each row's two-character pieces (a stored column, `dupfinder_bigrams`) serves those.
Each side of a search (the item's own fields, the versions' file names) is listed as ids when the planner
expects few matches and there are at most MATCH_LIST_LIMIT; a side found more often (a common word) is
tested row by row in the page's order until the page is full, the other table through a per-row scalar
subquery. Counts stop at COUNT_LIMIT (pages and the API say "more than"). Elsewhere (SQLite, the demo) the
same fields are searched with `icontains`.
"""

import json

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import cached_property

from collections_app.models import Item, Version

# A term found at most this often is answered from the list of its matches' ids; one found more often (a common
# Chinese word) is tested row by row in the list's order, which finds a page after a few rows when matches are
# that dense. Pages count up to COUNT_LIMIT matches and say "more than" past it.
MATCH_LIST_LIMIT = 5000
COUNT_LIMIT = 1000
# A side of the search the planner expects in more rows than this is tested per row without being listed. Set
# well above MATCH_LIST_LIMIT: a rare term taken for a common one would make a page read the whole list.
ESTIMATE_LIMIT = 4 * MATCH_LIST_LIMIT
# Item fields searched as text: the curated Dublin Core fields a user would type part of.
ITEM_TEXT_FIELDS = ("identifier", "title", "title_zh", "creator", "description")
# Columns PostgreSQL computes and stores (migration 0010), so the index's re-check reads rather than recomputes.
_ITEM_BIGRAM_SQL = "search_bigrams"
_ITEM_FULLTEXT_SQL = "search_fulltext"
_FILENAME_BIGRAM_SQL = "filename_bigrams"


def like_pattern(text: str) -> str:
    """`%text%` with the wildcards a user typed matched as themselves."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _item_condition(text: str, alias: str) -> tuple[str, list]:
    """SQL true for a row of the item table `alias` whose own fields hold `text`."""
    if len(text) == 2:
        return f"{alias}.{_ITEM_BIGRAM_SQL} @> ARRAY[lower(%s)]", [text]
    pattern = like_pattern(text)
    parts = [f"{alias}.{column} ILIKE %s" for column in ITEM_TEXT_FIELDS] + [f"({alias}.subjects::text) ILIKE %s"]
    parts.append(f"{alias}.{_ITEM_FULLTEXT_SQL} @@ plainto_tsquery('english'::regconfig, %s)")
    return "(" + " OR ".join(parts) + ")", [pattern] * (len(parts) - 1) + [text]


def _filename_condition(text: str, alias: str) -> tuple[str, list]:
    """SQL true for a row of the version table `alias` whose original file name holds `text`."""
    if len(text) == 2:
        return f"{alias}.{_FILENAME_BIGRAM_SQL} @> ARRAY[lower(%s)]", [text]
    return f"{alias}.original_filename ILIKE %s", [like_pattern(text)]


def _estimated_rows(sql: str, params: list) -> float:
    """The planner's estimate of how many rows `sql` selects (EXPLAIN only, nothing is read)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"])


def _ids_if_few(sql: str, params: list) -> list[int] | None:
    """The ids `sql` selects when there are at most MATCH_LIST_LIMIT rows, else None (read no further).

    A term the planner expects in far more rows is not listed at all: listing it would read MATCH_LIST_LIMIT
    rows for nothing. The estimate only chooses the way; a wrong one costs at most MATCH_LIST_LIMIT rows.
    """
    if _estimated_rows(sql, params) > ESTIMATE_LIMIT:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM ({sql}) AS found LIMIT %s", [*params, MATCH_LIST_LIMIT + 1])
        rows = cursor.fetchall()
    return None if len(rows) > MATCH_LIST_LIMIT else sorted({row[0] for row in rows})


def _one_of(column: str, ids: list[int]) -> tuple[str, list]:
    # One array parameter rather than an IN list of up to MATCH_LIST_LIMIT parameters, parsed on every query.
    # As a set to join (unnest), not `= ANY(...)`: PostgreSQL then reads the few matches and sorts them, where
    # with a filter it may walk the list's sort index hoping to meet them soon, and matches of a partial
    # identifier sit together far down that order (measured: 1.2 s against 15 ms at 1,000,000 versions).
    return f"{column} IN (SELECT unnest(%s::bigint[]))", [ids]


def _where(parts: list[tuple[str, list]]) -> RawSQL:
    sql = " OR ".join(part for part, _params in parts)
    return RawSQL(f"({sql})", [p for _part, params in parts for p in params], BooleanField())


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
    item, version = Item._meta.db_table, Version._meta.db_table
    fields, fields_params = _item_condition(text, "i")
    names, names_params = _filename_condition(text, "v")
    own = _ids_if_few(f"SELECT i.id FROM {item} i WHERE {fields}", fields_params)
    named = _ids_if_few(f"SELECT v.item_id AS id FROM {version} v WHERE {names}", names_params)
    if own is not None and named is not None:
        return queryset.filter(_where([_one_of(f"{item}.id", sorted({*own, *named}))]))
    # A common term is tested row by row in the page's order, so a page is found without reading every match.
    # The version side is a scalar subquery so that it too is tested per row: as EXISTS, PostgreSQL may
    # first collect every matching version (a "hashed SubPlan") before the first row.
    parts = [_item_condition(text, item) if own is None else _one_of(f"{item}.id", own)]
    if named is None:
        row_names = f"COALESCE((SELECT true FROM {version} v WHERE v.item_id = {item}.id AND {names} LIMIT 1), false)"
        parts.append((row_names, names_params))
    elif named:
        parts.append(_one_of(f"{item}.id", named))
    return queryset.filter(_where(parts))


def versions_search(*, queryset: QuerySet[Version], text: str) -> QuerySet[Version]:
    """The versions of `queryset` whose file name holds `text`, or whose item's fields do."""
    text = text.strip()
    if not text:
        return queryset
    if connection.vendor != "postgresql":
        items = Item.objects.filter(_item_fields_q(text)).values("pk")
        return queryset.filter(Q(original_filename__icontains=text) | Q(item_id__in=items))
    item, version = Item._meta.db_table, Version._meta.db_table
    names, names_params = _filename_condition(text, "v")
    fields, fields_params = _item_condition(text, "i")
    named = _ids_if_few(f"SELECT v.id FROM {version} v WHERE {names}", names_params)
    items = _ids_if_few(f"SELECT i.id FROM {item} i WHERE {fields}", fields_params)
    if named is not None and items is not None:
        of_items = _ids_if_few(f"SELECT v.id FROM {version} v WHERE v.item_id = ANY(%s)", [items])
        if of_items is not None:
            return queryset.filter(_where([_one_of(f"{version}.id", sorted({*named, *of_items}))]))
    # Each side is its list of ids when short, else tested per row in the list's order (the item side as a
    # scalar subquery on the version's own item, one index look-up, never a scan of every matching item).
    parts = [_filename_condition(text, version) if named is None else _one_of(f"{version}.id", named)]
    if items is None:
        parts.append(
            (f"COALESCE((SELECT {fields} FROM {item} i WHERE i.id = {version}.item_id), false)", fields_params)
        )
    else:
        parts.append(_one_of(f"{version}.item_id", items))
    return queryset.filter(_where(parts))


class CappedPaginator(Paginator):
    """Counts at most one more than `limit` rows (COUNT_LIMIT unless given): past that, pages say "more than"
    and stop counting. A list that pages on past the limit passes a limit beyond the page asked for."""

    def __init__(self, object_list, per_page, *, limit: int | None = None, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.limit = COUNT_LIMIT if limit is None else limit

    @cached_property
    def count(self) -> int:
        # How many of the first limit + 1 rows there are does not depend on their order; unordered, the
        # database stops after any limit + 1 matching rows instead of walking an index to find the first ones.
        rows = self.object_list.order_by() if hasattr(self.object_list, "order_by") else self.object_list
        return rows[: self.limit + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.limit


class IdsFirstPaginator(CappedPaginator):
    """A CappedPaginator for long ordered queues: a page's rows are loaded by their primary keys, read first
    in a subquery that selects nothing else (an index-only scan of the ordering index), so the rows before a
    deep page are neither loaded nor annotated. Page 400 then costs about what page 1 does, in one query."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.limit + 1].count()

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)
