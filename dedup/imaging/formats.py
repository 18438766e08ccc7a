"""The image formats the system accepts, decided by decoding, with the media type and suffix each is served with."""

import pillow_heif
from PIL import features

# Pillow plugin names. Excluded on purpose: EPS (runs Ghostscript), PSD/ICO/etc. (not collection masters),
# Netpbm (no embedded metadata, rarely an archive master; refused with its own reason), and SVG and HTML,
# which a browser would run as documents. HEIF comes from pillow-heif, AVIF and JPEG 2000 from Pillow itself
# (its wheels bundle libavif and OpenJPEG).
OPEN_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "WEBP", "GIF", "BMP", "HEIF", "AVIF", "JPEG2000")
# Not a Pillow format: each page is rendered by dedup.imaging.pdf and fingerprinted as a page version.
PDF = "PDF"

MEDIA_TYPES: dict[str, str] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "HEIF": "image/heif",
    "AVIF": "image/avif",
    "JPEG2000": "image/jp2",
    PDF: "application/pdf",
}

SUFFIXES: dict[str, str] = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "TIFF": ".tif",
    "WEBP": ".webp",
    "GIF": ".gif",
    "BMP": ".bmp",
    "HEIF": ".heic",
    "AVIF": ".avif",
    "JPEG2000": ".jp2",
    PDF: ".pdf",
}

# Modes whose samples are one grey channel (with or without alpha).
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})

# Embedded thumbnails stay unread: a HEIC's thumbnail may show another picture than its image, and the
# fingerprint must be of the image. Depth and auxiliary images are not pictures of the collection.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
if not features.check("avif"):  # pragma: no cover - Pillow's wheels bundle libavif since 11.2
    raise ImportError("Pillow was built without AVIF support; install Pillow's wheel (requirements.txt)")
