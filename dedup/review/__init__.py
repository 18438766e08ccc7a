"""Curator review of clusters: suggest, compare, merge, split, dismiss, skip and undo."""
