"""The catalogue: sources, items, versions, imported metadata, ingest and the audit trail."""
