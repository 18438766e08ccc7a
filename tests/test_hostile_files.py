"""Hostile and broken files, made here: each is processed correctly or refused with a clear reason, never a 5xx."""

import hashlib
import html
import io
import random
import struct
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image, ImageDraw

from collections_app.failures import skipped_reason
from collections_app.models import IngestBatch, Version
from collections_app.services import source_get_or_create
from dedup.services import version_process
from tests.api.conftest import api_as  # noqa: F401 - API clients authenticated by token
from tests.dedup.imaging.test_formats import hand_made_pdf, pdf_of
from tests.factories import ItemFactory, SourceFactory
from tests.images import encode, png_header_only, scene, zip_of

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = "looks like HTML/SVG/text"
UNSUPPORTED = "unsupported file type"
POLYGLOT = "hidden in it"


# --- the corpus ------------------------------------------------------------------------


def _truncated_jpeg() -> bytes:
    data = encode(scene(1), quality=90)
    return data[: len(data) // 2]


def _jpeg_with_comment(comment: bytes) -> bytes:
    data = encode(scene(2))
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side, shown upright after a quarter turn
    return encode(scene(3, (480, 360)).transpose(Image.Transpose.ROTATE_90), exif=exif.tobytes())


def _grey_16_bit_png() -> bytes:
    samples = np.asarray(scene(4).convert("L")).astype(np.uint16) * 257
    return encode(Image.fromarray(samples), "PNG")


def _palette_png_with_transparency() -> bytes:
    image = Image.new("P", (200, 100), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    ImageDraw.Draw(image).rectangle((100, 0, 199, 99), fill=1)
    return encode(image, "PNG", transparency=0)


def _animated_gif() -> bytes:
    frames = [scene(seed, (240, 180)) for seed in (5, 6, 7)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def _multi_page_tiff() -> bytes:
    pages = [scene(seed, (240, 180)) for seed in (8, 9, 10)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    return buffer.getvalue()


def _tiff_whose_pages_loop() -> bytes:
    """Two pages, the second pointing back at the first: a naive page walk never ends."""
    data = bytearray(_multi_page_tiff())
    first = struct.unpack("<I", data[4:8])[0]
    second_pointer = first + 2 + 12 * struct.unpack("<H", data[first : first + 2])[0]
    second = struct.unpack("<I", data[second_pointer : second_pointer + 4])[0]
    end_of_second = second + 2 + 12 * struct.unpack("<H", data[second : second + 2])[0]
    data[end_of_second : end_of_second + 4] = struct.pack("<I", first)
    return bytes(data)


def _zip_bomb() -> bytes:
    return zip_of({"flat.bmp": b"\0" * (4 * 1024 * 1024)})  # 4 MB from a few kB


def _zip_slip() -> bytes:
    return zip_of({"ok.jpg": encode(scene(11)), "../../etc/cron.d/evil.jpg": encode(scene(12))})


def _svg_with_script() -> bytes:
    return b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _html() -> bytes:
    return b"<!DOCTYPE html>\n<html><body><img src=x onerror=alert(document.cookie)></body></html>\n"


def _gif_with_a_zip_appended() -> bytes:
    return encode(scene(13), "GIF") + zip_of({"payload.class": b"\xca\xfe\xba\xbe" * 64})


def _png_with_html_before_its_pixels() -> bytes:
    png = encode(scene(14), "PNG")
    text = b"Comment\x00<html><body onload=alert(1)>"
    chunk = struct.pack(">I", len(text)) + b"tEXt" + text + struct.pack(">I", zlib.crc32(b"tEXt" + text))
    return png[:33] + chunk + png[33:]  # after the signature and IHDR


def _gif_10799_wide() -> bytes:
    """An ordinary GIF whose width, 10799, is 0x2A2F: its width bytes after the signature read "/*"."""
    buffer = io.BytesIO()
    scene(22, (10799, 2)).convert("P").save(buffer, "GIF")
    return buffer.getvalue()


def _gif_that_is_also_javascript() -> bytes:
    """GIF89a/*...*/=alert(...)//: the width opens a comment, the pixels sit in it, the script follows the image."""
    data = _gif_10799_wide()
    assert b"*/" not in data  # or the comment would close early and the script not parse
    return data + b"*/=alert(document.domain)//"


def _jpeg_that_is_also_javascript() -> bytes:
    """A first segment 0x2F2A = 12074 bytes long ("/*"), the script in a comment segment, "*/" after the image."""
    data = encode(scene(23))
    app0 = b"\xff\xe0/*JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app0 += b"\x00" * (0x2F2A + 2 - len(app0))
    script = b"*/=alert(document.domain);/*"
    assert b"*/" not in data
    return data[:2] + app0 + b"\xff\xfe" + struct.pack(">H", len(script) + 2) + script + data[2:] + b"*/"


def _pdf_with_attachment() -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf_of(scene(24)))
    document.new_attachment("invoice.exe").set_data(b"MZ not really a program")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    name: str  # the name it is sent under
    make: Callable[[], bytes]
    upload: str  # "created", or words of the reason it is refused with
    worker: str  # "done", or words of the reason processing fails with
    done: Callable[[Version], bool] = field(default=lambda version: True)


CORPUS = [
    Case("truncated.jpg", _truncated_jpeg, "created", "truncated"),
    Case("zero-bytes.jpg", lambda: b"", "empty", "The file is empty."),
    Case("really-a-png.jpg", lambda: encode(scene(15), "PNG"), "created", "done", lambda v: v.format == "PNG"),
    Case("50000x50000.png", lambda: png_header_only(50_000, 50_000), "2,500 megapixels", "2,500 megapixels"),
    Case("bomb.zip", _zip_bomb, "zip bomb", UNSUPPORTED),
    Case("slip.zip", _zip_slip, "outside the archive", UNSUPPORTED),
    Case("drawing.svg", _svg_with_script, NOT_AN_IMAGE, NOT_AN_IMAGE),
    Case("page.jpg", _html, NOT_AN_IMAGE, NOT_AN_IMAGE),
    Case("noise.png", lambda: random.Random(0).randbytes(4096), UNSUPPORTED, UNSUPPORTED),
    Case("icon.ico", lambda: encode(scene(16, (64, 64)), "ICO"), UNSUPPORTED, UNSUPPORTED),
    Case("comment.jpg", lambda: _jpeg_with_comment(b"<script>alert(1)</script>"), POLYGLOT, "done"),
    Case("gifar.gif", _gif_with_a_zip_appended, POLYGLOT, "done"),
    Case("text-chunk.png", _png_with_html_before_its_pixels, POLYGLOT, "done"),
    Case("script.gif", _gif_that_is_also_javascript, POLYGLOT, "done"),
    Case("script.jpg", _jpeg_that_is_also_javascript, POLYGLOT, "done"),
    Case("10799-wide.gif", _gif_10799_wide, "created", "done", lambda v: (v.width, v.height) == (10799, 2)),
    Case("cmyk.jpg", lambda: encode(scene(17).convert("CMYK")), "created", "done"),
    Case("grey-16-bit.png", _grey_16_bit_png, "created", "done"),
    Case("palette-transparent.png", _palette_png_with_transparency, "created", "done"),
    Case("animated.gif", _animated_gif, "created", "done", lambda v: v.fingerprint.page_count == 3),
    Case("exif-rotated.jpg", _exif_rotated_jpeg, "created", "done", lambda v: (v.width, v.height) == (480, 360)),
    Case("pages.tif", _multi_page_tiff, "created", "done", lambda v: v.fingerprint.page_count == 3),
    Case("looping-pages.tif", _tiff_whose_pages_loop, "created", "done"),
    Case("scan.bmp", lambda: encode(scene(18), "BMP"), "created", "done"),
    Case("photo.webp", lambda: encode(scene(19), "WEBP"), "created", "done"),
    Case("IMG_0001.HEIC", lambda: encode(scene(25), "HEIF"), "created", "done", lambda v: v.format == "HEIF"),
    Case("photo.avif", lambda: encode(scene(26), "AVIF"), "created", "done", lambda v: v.format == "AVIF"),
    Case("master.jp2", lambda: encode(scene(27), "JPEG2000"), "created", "done", lambda v: v.format == "JPEG2000"),
    Case("cut.heic", lambda: encode(scene(28), "HEIF")[:80], "HEIF header", "HEIF header"),
    Case("photo.ppm", lambda: encode(scene(29), "PPM"), "Netpbm", "Netpbm"),
    Case("clip.mp4", lambda: b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(512), "video", "video"),
    Case(
        "form.pdf",
        lambda: hand_made_pdf(b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        "JavaScript",
        "JavaScript",
    ),
    Case(
        "launch.pdf",
        lambda: hand_made_pdf(b"/OpenAction << /S /Launch /F (cmd.exe) >>"),
        "starts a program",
        "starts a program",
    ),
    Case("attached.pdf", _pdf_with_attachment, "embedded files", "embedded files"),
    Case("not-really.pdf", lambda: b"%PDF-1.7\n" + bytes(300), "The PDF is damaged", "The PDF is damaged"),
]
CASES = pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    # The declared type is a lie on purpose: only the bytes may decide.
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _stored_as_received(name: str, data: bytes) -> Version:
    """A version whose file skipped the checks at upload, as one stored before they existed would have."""
    version = Version(
        item=ItemFactory(title=name),
        original_filename=name,
        source=source_get_or_create(name="Legacy import"),
        byte_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    version.file.save(name, ContentFile(data), save=False)
    version.save()
    return version


# --- through the upload page, the API and the worker ------------------------------------


@CASES
def test_the_upload_page_stores_or_refuses_each_file_with_a_reason(client, role_user, case):
    client.force_login(role_user("uploader"))
    source = SourceFactory()
    response = client.post(reverse("upload"), {"source": source.pk, "files": [_upload(case.name, case.make())]})
    assert response.status_code < 500
    if case.upload == "created":
        assert response.status_code == 302
        assert Version.objects.get().original_filename == case.name
        return
    assert not Version.objects.exists()
    if response.status_code == 302:  # refused by the service: listed on the batch and flashed
        shown = html.unescape(client.get(response["Location"]).content.decode())
        assert case.upload in skipped_reason(IngestBatch.objects.get().skipped[0])
    else:  # refused by the form (an empty file)
        shown = html.unescape(response.content.decode())
    assert case.upload in shown


@CASES
def test_the_api_answers_each_file_with_its_outcome_and_reason(api_as, case):  # noqa: F811
    source = source_get_or_create(name="Portal")
    response = api_as("uploader").post(
        "/api/v1/uploads/", {"source": source.pk, "files": [_upload(case.name, case.make())]}, format="multipart"
    )
    assert response.status_code < 500
    if response.status_code == 400:  # an empty file does not get past the serializer
        assert case.upload == "empty" and "empty" in str(response.json())
        return
    assert response.status_code == 201
    answer = response.json()["files"][0]
    if case.upload == "created":
        assert answer["status"] == "created" and answer["version"]
    else:
        assert answer["status"] == "refused" and case.upload in answer["message"]
        assert not Version.objects.exists()


@CASES
def test_the_worker_processes_each_stored_file_or_fails_it_with_a_reason(case):
    version = _stored_as_received(case.name, case.make())
    assert version_process(version_id=version.pk) in (Version.Status.DONE, Version.Status.FAILED)
    version.refresh_from_db()
    if case.worker == "done":
        assert (version.status, version.error_code) == (Version.Status.DONE, "")
        assert case.done(version)
    else:
        assert version.status == Version.Status.FAILED
        assert case.worker in version.error_text and version.error_text.endswith((".", ")"))
        assert "Traceback" not in version.error_text


def test_a_png_sent_as_jpg_is_stored_and_served_as_a_png(client, role_user):
    client.force_login(role_user("uploader"))
    source = SourceFactory()
    client.post(reverse("upload"), {"source": source.pk, "files": [_upload("holiday.jpg", encode(scene(20), "PNG"))]})
    version = Version.objects.get()
    assert version.format == "PNG" and version.file.name.endswith(".png")
    response = client.get(reverse("version-file", args=[version.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="holiday.png"'


@override_settings(DUPFINDER_MAX_PIXELS=100_000)
def test_the_pixel_limit_is_read_from_the_header_before_anything_is_stored(api_as):  # noqa: F811
    source = source_get_or_create(name="Portal")
    response = api_as("uploader").post(
        "/api/v1/uploads/", {"source": source.pk, "files": [_upload("wide.jpg", encode(scene(21, (400, 300))))]}
    )
    answer = response.json()["files"][0]
    assert answer["status"] == "refused"
    assert answer["message"] == "The image is too large to process safely (0.12 megapixels, limit 0.1)."
    assert not Version.objects.exists()


def test_pillows_decompression_bomb_warning_is_an_error_once_the_app_is_ready():
    image = encode(Image.new("L", (400, 300)), "PNG")
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as patch:
        apps.get_app_config("dedup").ready()
        patch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # 120,000 pixels: between the limit and twice it
        with pytest.raises(Image.DecompressionBombWarning):
            Image.open(io.BytesIO(image)).load()
