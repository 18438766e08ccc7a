"""Duplicate detection: fingerprints, candidate index, verification, clusters."""
