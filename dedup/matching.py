"""Matching a finished version against stored fingerprints (filled in by the matching work)."""


def version_match(*, version_id: int) -> None:
    """Placeholder until the candidate index lands: no clustering yet."""
    return None
