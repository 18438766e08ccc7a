"""Locale formats for Hong Kong, layered over Django's own (FORMAT_MODULE_PATH)."""
