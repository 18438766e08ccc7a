"""What captured SQL shows about how a list page read its rows."""

import re

IDS_ONLY = re.compile(r' IN \(SELECT [A-Z]\d*\."id"( AS "pk")? FROM ')


def skipped_rows_by_id_alone(captured) -> bool:
    """True when some query skipped rows (OFFSET) and each did so inside a subquery that selects only ids."""
    skipping = [q["sql"] for q in captured.captured_queries if " OFFSET " in q["sql"]]
    return bool(skipping) and all(_offset_inside_ids_subquery(sql) for sql in skipping)


def _offset_inside_ids_subquery(sql: str) -> bool:
    start = sql.rfind(" IN (SELECT ", 0, sql.index(" OFFSET "))
    return start >= 0 and bool(IDS_ONLY.match(sql, start))
