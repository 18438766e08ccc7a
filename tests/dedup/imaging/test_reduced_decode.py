"""Fingerprinting without the preview (the worker): a JPEG photo decodes at 1/8, a page or a matted picture is
decoded again at preview size so its fingerprint is the one it always had, and `preview_file` makes the preview."""

import io
from dataclasses import fields

import numpy as np
import pytest
from PIL import Image

from dedup.imaging.decode import decode_display
from dedup.imaging.fingerprint import Fingerprint, fingerprint_file, preview_file
from dedup.imaging.renditions import RENDITION_SIDE, THUMB_PREVIEW, THUMB_SMALL, may_need_preview, reduced_renditions
from tests.dedup.imaging.test_fingerprint import distance, encode, photo
from tests.images import scene
from tests.pictures import make_form, random_form_template, random_form_values

# What a decode at another scale may change; everything else a fingerprint holds must stay equal.
_MAY_DIFFER = {"thumbnails", "timings"}


def _photo_12mp() -> bytes:
    # Not seed 20: its smooth fields come close to the page test, and a possible page is decoded again.
    return encode(photo((1000, 750), seed=2).resize((4000, 3000)), quality=90)


def _page(size: tuple[int, int] = (2550, 3300)) -> Image.Image:
    rng = np.random.default_rng(3)
    template = random_form_template(rng)
    return make_form(template, random_form_values(rng, template)).resize(size)


def _matted(size: tuple[int, int] = (3200, 2400)) -> Image.Image:
    mat = Image.new("RGB", size, (236, 232, 222))
    mat.paste(scene(5, (size[0] // 2, size[1] // 2)), (size[0] // 4, size[1] // 4))
    return mat


def _unchanged(a: Fingerprint, b: Fingerprint) -> list[str]:
    """The fields that differ, of those that must not."""
    names = (f.name for f in fields(Fingerprint) if f.name not in _MAY_DIFFER)
    return [name for name in names if getattr(a, name) != getattr(b, name)]


def test_a_12_megapixel_jpeg_photo_decodes_at_one_eighth_without_the_preview():
    data = _photo_12mp()
    decoded = decode_display(Image.open(io.BytesIO(data)), least=RENDITION_SIDE)
    assert decoded.display.size == (500, 375) and decoded.reduced
    preview_sized = decode_display(Image.open(io.BytesIO(data)))
    assert preview_sized.display.size == (1000, 750) and not preview_sized.reduced


def test_a_jpeg_photo_fingerprinted_without_the_preview_has_the_small_thumbnail_only_and_nearly_the_same_hashes():
    data = _photo_12mp()
    reduced, full = fingerprint_file(io.BytesIO(data), preview=False), fingerprint_file(io.BytesIO(data))
    assert set(reduced.thumbnails) == {THUMB_SMALL} and "decode_again" not in reduced.timings
    assert Image.open(io.BytesIO(reduced.thumbnails[THUMB_SMALL])).size == (256, 192)
    assert (reduced.width, reduced.height, reduced.rendition_size) == (full.width, full.height, full.rendition_size)
    assert distance(reduced.phash, full.phash) <= 2 and distance(reduced.dhash, full.dhash) <= 2
    a, b = (np.frombuffer(fp.rendition, np.uint8).astype(int) for fp in (reduced, full))
    assert np.abs(a - b).mean() < 1.5
    assert (reduced.content, reduced.detail) == (b"", b"")


@pytest.mark.parametrize("picture", [_page, _matted], ids=["page", "matted photo"])
def test_a_jpeg_page_or_matted_picture_is_decoded_again_and_fingerprints_exactly_as_with_the_preview(picture):
    data = encode(picture(), quality=90)
    reduced, full = fingerprint_file(io.BytesIO(data), preview=False), fingerprint_file(io.BytesIO(data))
    assert "decode_again" in reduced.timings
    assert reduced.detail or reduced.content
    assert _unchanged(reduced, full) == []
    assert reduced.thumbnails == full.thumbnails  # the preview comes with the second decode


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP"])
def test_a_format_that_cannot_decode_reduced_fingerprints_alike_with_or_without_the_preview(fmt):
    data = encode(photo((600, 450), seed=4).resize((2400, 1800)), fmt)
    reduced, full = fingerprint_file(io.BytesIO(data), preview=False), fingerprint_file(io.BytesIO(data))
    assert _unchanged(reduced, full) == [] and reduced.thumbnails == full.thumbnails


def test_a_small_jpeg_is_decoded_whole_either_way():
    data = encode(photo((480, 360), seed=6), quality=90)
    reduced, full = fingerprint_file(io.BytesIO(data), preview=False), fingerprint_file(io.BytesIO(data))
    assert _unchanged(reduced, full) == [] and reduced.thumbnails == full.thumbnails


@pytest.mark.parametrize(
    "data",
    [_photo_12mp(), encode(photo((600, 450), seed=4).resize((2400, 1800)), "PNG")],
    ids=["JPEG photo", "PNG"],
)
def test_preview_file_makes_the_preview_that_fingerprinting_with_the_preview_makes(data):
    assert preview_file(io.BytesIO(data)) == fingerprint_file(io.BytesIO(data)).thumbnails[THUMB_PREVIEW]
    assert max(Image.open(io.BytesIO(preview_file(io.BytesIO(data)))).size) <= THUMB_PREVIEW


def test_a_photo_needs_no_preview_decode_and_a_page_or_a_matted_picture_does():
    def needs(image: Image.Image) -> bool:
        decoded = decode_display(Image.open(io.BytesIO(encode(image, quality=90))), least=RENDITION_SIDE)
        return may_need_preview(reduced_renditions(decoded.display, decoded.preview_size)[0])

    assert not needs(photo((1000, 750), seed=2).resize((4000, 3000)))
    assert needs(_page()) and needs(_matted())


@pytest.mark.parametrize(
    ("size", "orientation"), [((4001, 2999), 1), ((2047, 1533), 1), ((3999, 2001), 6), ((999, 700), 8)]
)
def test_a_reduced_decode_gives_the_rendition_and_small_thumbnail_the_size_the_preview_decode_gives(size, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(photo((size[0] // 4, size[1] // 4), seed=2).resize(size), quality=90, exif=exif.tobytes())
    reduced, full = fingerprint_file(io.BytesIO(data), preview=False), fingerprint_file(io.BytesIO(data))
    assert set(reduced.thumbnails) == {THUMB_SMALL}
    assert reduced.rendition_size == full.rendition_size
    small, full_small = (Image.open(io.BytesIO(fp.thumbnails[THUMB_SMALL])).size for fp in (reduced, full))
    assert small == full_small
