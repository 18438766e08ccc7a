"""Records officers: authoritative choices and their approval, the item record with its audit trail and
exports, and copy verification ("is this copy the official one?").

Sits above detection: may import collections_app, dedup and dedup.imaging; only api/ and reports/ beside it.
"""
