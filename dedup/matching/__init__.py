"""Matching a finished version: hash entries in the shared index, candidates, verified edges and clusters.

One module per job; every write is a service, every query a selector, and the comparison itself is
dedup.imaging.compare, the same one copy verification uses.
"""
