"""The image formats the system accepts, decided by decoding, with the media type and suffix each is served with."""

# Pillow plugin names. Excluded on purpose: EPS (runs Ghostscript), PSD/ICO/etc. (not collection masters),
# and SVG and HTML, which a browser would run as documents.
OPEN_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP")

MEDIA_TYPES: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
}

SUFFIXES: dict[str, str] = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "TIFF": ".tif",
    "WEBP": ".webp",
    "GIF": ".gif",
    "BMP": ".bmp",
}

# Modes whose samples are one grey channel (with or without alpha).
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
