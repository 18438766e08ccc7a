"""Curator review of clusters: suggest, compare, merge, split, dismiss, skip and undo.

The top of detection: may import the rest of dedup and collections_app.
"""
