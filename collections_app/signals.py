"""Signals the catalogue sends to the layers above it, which it must never import."""

from django.dispatch import Signal

# A stored version needs processing (new upload, retry). Sent after the upload committed, with
# `version_id` and `inline` (process here and now, without a broker: `ingest --inline`).
processing_requested = Signal()

# A version's large preview is asked for and none is stored (fingerprinting decoded a photo below preview size).
# Sent with `version_id`; the receiver makes it and returns its stored name, or "" when it cannot.
preview_wanted = Signal()
