"""The dashboard, downloadable reports and storage reclamation.

Above detection: may import dedup, dedup.imaging and collections_app; not records or api.
"""
