"""Template helpers for the dedup pages."""
