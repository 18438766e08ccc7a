"""The REST API under /api/v1/ for other portals and systems (Django REST framework).

The top layer: it may import records, reports, dedup and collections_app; nothing imports it.
"""
