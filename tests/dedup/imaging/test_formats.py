"""HEIC/HEIF, AVIF, JPEG 2000 and PDF pages decoded safely and fingerprinted like any image; Netpbm refused."""

import io
import zlib

import pypdfium2 as pdfium
import pytest
from PIL import Image

from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.fingerprint import fingerprint_file, identify, pdf_pages
from tests.images import encode, scene

PHOTO = scene(7, (900, 600))


def _reason(data: bytes, **options) -> tuple[str, dict]:
    with pytest.raises(FingerprintError) as caught:
        identify(io.BytesIO(data), **options)
    return caught.value.code, caught.value.params


def _distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def pdf_of(*pages: Image.Image, resolution: float = 150) -> bytes:
    """A PDF of picture pages as Pillow's PDF writer makes it (one scan per page)."""
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=list(pages[1:]), resolution=resolution)
    return buffer.getvalue()


def hand_made_pdf(catalog_extra: bytes = b"", *, object_stream: bytes = b"") -> bytes:
    """A one-page PDF written object by object, with `catalog_extra` in its catalogue and, if given, a
    compressed object stream holding `object_stream` (PDF 1.5 packs dictionaries there, out of plain sight)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    streams = {}
    if object_stream:
        packed = b"5 0 " + object_stream
        body = zlib.compress(packed)
        objects.append(b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>" % len(body))
        streams[len(objects)] = body
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, dictionary in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + dictionary)
        if number in streams:
            out.write(b"\nstream\n" + streams[number] + b"\nendstream")
        out.write(b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


# --- still-picture formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF", "JPEG2000"])
def test_heic_avif_and_jpeg_2000_are_identified_and_hashed_as_the_same_picture_as_a_jpeg(fmt):
    data = encode(PHOTO, fmt, quality=90) if fmt != "JPEG2000" else encode(PHOTO, fmt)
    assert identify(io.BytesIO(data)) == fmt
    converted, jpeg = fingerprint_file(io.BytesIO(data)), fingerprint_file(io.BytesIO(encode(PHOTO, quality=90)))
    assert (converted.format, converted.width, converted.height) == (fmt, 900, 600)
    assert _distance(converted.phash, jpeg.phash) <= 4


def test_a_jpx_file_with_the_jpx_brand_is_read_as_jpeg_2000():
    data = encode(PHOTO, "JPEG2000", no_jp2=False)
    jpx = data[:20] + b"jpx " + data[24:]  # the ftyp box's brand, as a JPX writer sets it
    assert identify(io.BytesIO(jpx)) == "JPEG2000"
    assert fingerprint_file(io.BytesIO(jpx)).width == 900


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF", "JPEG2000"])
def test_the_pixel_limit_holds_for_the_new_formats_before_any_pixel_is_decoded(fmt):
    data = encode(PHOTO, fmt)
    assert _reason(data, max_pixels=500_000)[0] == Failure.TOO_LARGE
    with pytest.raises(FingerprintError) as caught:
        fingerprint_file(io.BytesIO(data), max_pixels=500_000)
    assert caught.value.code == Failure.TOO_LARGE


@pytest.mark.parametrize(("fmt", "named"), [("HEIF", "HEIF"), ("AVIF", "AVIF"), ("JPEG2000", "JPEG2000")])
def test_a_truncated_heic_avif_or_jpeg_2000_is_named_as_such(fmt, named):
    data = encode(scene(8, (640, 480)), fmt)
    with pytest.raises(FingerprintError) as caught:
        fingerprint_file(io.BytesIO(data[:60]))
    assert caught.value.code in (Failure.HEADER_UNREADABLE, Failure.CORRUPT)
    if caught.value.code == Failure.HEADER_UNREADABLE:
        assert caught.value.params == {"format": named}


def test_an_mp4_video_is_refused_as_a_video_not_as_an_unsupported_photo():
    assert _reason(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64))[0] == Failure.VIDEO


@pytest.mark.parametrize("fmt", ["PPM", "PGM", "PBM"])
def test_netpbm_files_are_refused_as_netpbm_not_as_text(fmt):
    mode = {"PPM": "RGB", "PGM": "L", "PBM": "1"}[fmt]
    binary = encode(scene(9, (64, 48)).convert(mode), "PPM")
    assert _reason(binary) == (Failure.NETPBM, {})
    plain = b"P1\n# a comment\n4 2\n0 1 0 1\n1 0 1 0\n" if fmt == "PBM" else b"P3\n2 1\n255\n255 0 0 0 0 255\n"
    assert _reason(plain) == (Failure.NETPBM, {})


def test_a_pam_file_is_refused_as_netpbm():
    assert _reason(b"P7\nWIDTH 2\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\nENDHDR\n\x00\xff") == (
        Failure.NETPBM,
        {},
    )


def test_text_that_starts_like_a_netpbm_magic_number_is_still_text():
    assert _reason(b"P1 is the first photograph of the register.\n")[0] == Failure.TEXT_DOCUMENT


# --- PDF ------------------------------------------------------------------------------------------------


def test_each_page_of_a_pdf_is_rendered_at_the_scans_own_pixel_size_and_hashed_like_the_scan():
    first, second = scene(10, (1240, 1754)), scene(11, (1240, 1754))
    data = pdf_of(first, second)
    assert identify(io.BytesIO(data)) == "PDF"
    assert pdf_pages(io.BytesIO(data)) == 2
    page_1, page_2 = (fingerprint_file(io.BytesIO(data), page=n) for n in (1, 2))
    tiff = fingerprint_file(io.BytesIO(encode(first, "TIFF")))
    assert (page_1.format, page_1.width, page_1.height, page_1.page_count) == ("PDF", 1240, 1754, 2)
    assert page_1.metadata["pdf"]["page"] == 1 and page_2.metadata["pdf"]["page"] == 2
    assert _distance(page_1.phash, tiff.phash) <= 4
    assert _distance(page_2.phash, tiff.phash) > 12


def test_a_vector_page_counts_as_printed_at_300_dpi():
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)  # A4 in points
    buffer = io.BytesIO()
    document.save(buffer)
    page = fingerprint_file(io.BytesIO(buffer.getvalue()), page=1)
    assert (page.width, page.height) == (2479, 3508)


def test_a_pdf_of_several_pages_is_fingerprinted_one_named_page_at_a_time():
    data = pdf_of(scene(12), scene(13))
    with pytest.raises(FingerprintError) as caught:
        fingerprint_file(io.BytesIO(data))
    assert (caught.value.code, caught.value.params) == (Failure.PDF_PAGE_NEEDED, {"pages": 2})
    with pytest.raises(FingerprintError) as caught:
        fingerprint_file(io.BytesIO(data), page=3)
    assert (caught.value.code, caught.value.params) == (Failure.PDF_PAGE_MISSING, {"page": 3, "pages": 2})
    assert fingerprint_file(io.BytesIO(pdf_of(scene(12)))).width == 640  # one page stands for itself


def test_a_pdf_over_the_page_limit_is_refused_with_its_count():
    assert _reason(pdf_of(*(scene(n, (64, 64)) for n in range(4))), max_pages=3) == (
        Failure.PDF_TOO_MANY_PAGES,
        {"pages": 4, "limit": 3},
    )


def test_a_page_whose_scan_is_over_the_pixel_limit_is_refused_before_it_is_drawn():
    data = pdf_of(scene(14, (1200, 1000)))
    with pytest.raises(FingerprintError) as caught:
        fingerprint_file(io.BytesIO(data), page=1, max_pixels=1_000_000)
    assert caught.value.code == Failure.TOO_LARGE and caught.value.params["pixels"] == "1.2"


def test_a_damaged_or_password_locked_pdf_is_refused_with_the_reason():
    assert _reason(b"%PDF-1.4 not really")[0] == Failure.PDF_UNREADABLE
    assert _reason(pdf_of(scene(15))[:300])[0] == Failure.PDF_UNREADABLE


@pytest.mark.parametrize(
    ("catalog", "packed", "reason"),
    [
        (b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>", b"", Failure.PDF_JAVASCRIPT),
        (b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>", b"", Failure.PDF_JAVASCRIPT),
        (b"/OpenAction << /S /Launch /F (cmd.exe) >>", b"", Failure.PDF_LAUNCH_ACTION),
        (b"/OpenAction 5 0 R", b"<< /S /JavaScript /JS (app.alert(1)) >>", Failure.PDF_JAVASCRIPT),
        (b"/OpenAction 5 0 R", b"<< /S /Launch /F (run.exe) >>", Failure.PDF_LAUNCH_ACTION),
        (b"/AcroForm << /Fields [] /XFA 5 0 R >>", b"", Failure.PDF_JAVASCRIPT),
    ],
)
def test_a_pdf_that_would_run_a_script_or_a_program_is_refused(catalog, packed, reason):
    assert _reason(hand_made_pdf(catalog, object_stream=packed)) == (reason, {})


def test_the_same_pdf_without_active_content_is_taken():
    assert identify(io.BytesIO(hand_made_pdf(b"/PageMode /UseNone"))) == "PDF"


def test_a_pdf_with_an_attached_file_is_refused():
    document = pdfium.PdfDocument(pdf_of(scene(16)))
    document.new_attachment("payload.exe").set_data(b"MZ\x90\x00 not really a program")
    buffer = io.BytesIO()
    document.save(buffer)
    assert _reason(buffer.getvalue()) == (Failure.PDF_EMBEDDED_FILE, {})


def test_a_pdf_with_a_web_page_in_its_first_bytes_is_a_polyglot():
    data = pdf_of(scene(17))
    polyglot = data[:9] + b"%<html><script>alert(1)</script>\n" + data[9:]
    assert _reason(polyglot)[0] == Failure.POLYGLOT


def test_picture_bytes_that_spell_an_active_name_by_chance_do_not_refuse_a_pdf():
    image = pdf_of(scene(18))
    # A picture stream whose bytes happen to contain "/JS " and "/Launch": stream bodies are not dictionaries.
    spelled = image.replace(b"stream\n\xff\xd8\xff", b"stream\n\xff\xd8\xff\xfe\x00\x12/JS /Launch ok!\x00", 1)
    assert spelled != image
    assert identify(io.BytesIO(spelled)) == "PDF"


@pytest.mark.parametrize(("options", "levels"), [({}, 5), ({"num_resolutions": 2}, 1), ({"tile_size": (256, 256)}, 5)])
def test_a_jpeg_2000_master_is_decoded_from_the_wavelet_level_its_header_allows(options, levels):
    from dedup.imaging.decode import _codestream_levels

    big = scene(19, (2400, 1800))
    data = encode(big, "JPEG2000", **options)
    assert _codestream_levels(data[:4096]) == levels
    with Image.open(io.BytesIO(data)) as opened:
        opened.reduce = min(levels, 1)  # what decode_display asks of OpenJPEG for a 2400 px picture
        opened.load()
        assert opened.size == ((1200, 900) if levels else (2400, 1800))
    master, png = fingerprint_file(io.BytesIO(data)), fingerprint_file(io.BytesIO(encode(big, "PNG")))
    assert (master.width, master.height) == (2400, 1800) and _distance(master.phash, png.phash) <= 4


def test_a_pdf_on_disk_is_scanned_for_active_content_as_well_as_one_in_memory(tmp_path):
    path = tmp_path / "upload.pdf"
    path.write_bytes(hand_made_pdf(b"/OpenAction 5 0 R", object_stream=b"<< /S /Launch /F (run.exe) >>"))
    with path.open("rb") as handle, pytest.raises(FingerprintError) as caught:
        identify(handle)
    assert caught.value.code == Failure.PDF_LAUNCH_ACTION
