"""Signals the catalogue sends to the layers above it, which it must never import."""

from django.dispatch import Signal

# A stored version needs processing (new upload, retry). Sent after the upload committed, with
# `version_id` and `inline` (process here and now, without a broker: `ingest --inline`).
processing_requested = Signal()
