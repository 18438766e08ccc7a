"""The catalogue: sources, items, versions, imported metadata, intake (every upload path) and the audit trail.

The bottom Django layer. It may import dedup.imaging (the pure core) and nothing else of the project's apps;
it asks detection to process a version through the signal in collections_app.signals.
"""
