"""Duplicate detection above the catalogue: the processing lifecycle, the shared hash index, verified edges,
clusters and curator review.

May import collections_app and its own imaging core (dedup.imaging), never records, reports or api.
"""
