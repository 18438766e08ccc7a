"""The REST API under /api/v1/ for other portals and systems (Django REST framework)."""
