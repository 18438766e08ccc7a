"""Fingerprinting: hashes, renditions, safe decoding and embedded metadata, on images made in memory."""

import hashlib
import io
import json
import random
import warnings
from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageDraw, PngImagePlugin
from PIL.TiffImagePlugin import IFDRational

from dedup.imaging.dihedral import DIHEDRAL, PIL_TRANSPOSE
from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.fingerprint import Fingerprint, fingerprint_file
from dedup.imaging.renditions import RENDITION_SIDE, THUMB_PREVIEW, THUMB_SMALL
from tests.images import png_header_only

NOT_AN_IMAGE = (Failure.TEXT_DOCUMENT, {})

XMP_PACKET = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    photoshop:DateCreated="1962-07-01T09:30:00+08:00"
    xmp:CreatorTool="Capture One">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">維多利亞港夜景</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">中文說明</rdf:li></rdf:Alt></dc:description>
   <dc:creator><rdf:Seq><rdf:li>陳大文</rdf:li><rdf:li>Lee Mei-ling</rdf:li></rdf:Seq></dc:creator>
   <dc:subject><rdf:Bag><rdf:li>香港</rdf:li><rdf:li>harbour</rdf:li></rdf:Bag></dc:subject>
   <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">© 香港博物館</rdf:li></rdf:Alt></dc:rights>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


# --- helpers -------------------------------------------------------------------------


def photo(size: tuple[int, int] = (400, 300), seed: int = 0) -> Image.Image:
    """Photo-like content: smooth colour gradients, a few shapes, mild noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.5, 3.0, 3)
        wave = np.sin(x / width * fx * np.pi + phase) * np.cos(y / height * fy * np.pi)
        channels.append(127 + 70 * wave + 40 * (x / width - y / height))
    pixels = np.stack(channels, axis=-1) + rng.normal(0, 4, (height, width, 1))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    shapes = random.Random(seed)
    for _ in range(6):
        cx, cy, r = shapes.randrange(width), shapes.randrange(height), shapes.randrange(width // 12, width // 4)
        fill = tuple(shapes.randrange(256) for _ in range(3))
        (draw.ellipse if shapes.random() < 0.5 else draw.rectangle)((cx - r, cy - r, cx + r, cy + r), fill=fill)
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def fingerprint(data: bytes, **kwargs) -> Fingerprint:
    return fingerprint_file(io.BytesIO(data), **kwargs)


def distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def as_int(h: imagehash.ImageHash) -> int:
    return int(str(h), 16)


def rendition_image(fp: Fingerprint) -> Image.Image:
    return Image.frombytes("L", fp.rendition_size, fp.rendition)


def error_reason(data: bytes, **kwargs) -> tuple[Failure, dict]:
    """The failure code and its parameters."""
    with pytest.raises(FingerprintError) as info:
        fingerprint(data, **kwargs)
    return info.value.code, info.value.params


def with_iptc(jpeg: bytes, datasets: list[tuple[int, int, bytes]]) -> bytes:
    """Insert an APP13 Photoshop segment holding IPTC-IIM datasets, as Photoshop and Bridge write it."""
    iptc = b"".join(b"\x1c" + bytes((r, d)) + len(v).to_bytes(2, "big") + v for r, d, v in datasets)
    resource = b"8BIM\x04\x04\x00\x00" + len(iptc).to_bytes(4, "big") + iptc + b"\x00" * (len(iptc) % 2)
    payload = b"Photoshop 3.0\x00" + resource
    return jpeg[:2] + b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


# --- identity and hashes -------------------------------------------------------------


def test_a_jpeg_reports_checksum_size_format_mode_and_pixel_size():
    data = encode(photo((640, 480)), quality=90)
    fp = fingerprint(data)
    assert fp.sha256 == hashlib.sha256(data).hexdigest()
    assert fp.byte_size == len(data)
    assert (fp.format, fp.mode, fp.bit_depth, fp.page_count) == ("JPEG", "RGB", 8, 1)
    assert (fp.width, fp.height, fp.orientation) == (640, 480, 1)
    assert set(fp.timings) == {"read", "decode", "thumbs", "hash", "metadata"}
    assert all(ms >= 0 for ms in fp.timings.values())


def test_a_path_and_a_file_object_give_the_same_fingerprint(tmp_path: Path):
    data = encode(photo(), quality=90)
    path = tmp_path / "scan.jpg"
    path.write_bytes(data)
    from_path, from_file = fingerprint_file(path), fingerprint_file(io.BytesIO(data))
    assert (from_path.sha256, from_path.phash, from_path.rendition) == (
        from_file.sha256,
        from_file.phash,
        from_file.rendition,
    )


def test_a_file_larger_than_the_in_memory_limit_is_streamed_and_hashed_correctly(tmp_path: Path):
    image = photo((300, 200)).resize((2600, 2400))  # uncompressed BMP of about 18.7 MB
    path = tmp_path / "big.bmp"
    image.save(path)
    fp = fingerprint_file(path)
    assert fp.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fp.byte_size == path.stat().st_size > 16 * 1024 * 1024
    assert (fp.format, fp.width, fp.height) == ("BMP", 2600, 2400)


def test_a_non_seekable_stream_is_fingerprinted():
    data = encode(photo(), quality=90)

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self._inner.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    fp = fingerprint_file(Pipe())
    assert fp.sha256 == hashlib.sha256(data).hexdigest()


def test_phash_and_dhash_are_imagehash_hashes_of_the_rendition_read_row_major():
    fp = fingerprint(encode(photo((640, 480)), quality=90))
    grey = rendition_image(fp)
    assert fp.phash == as_int(imagehash.phash(grey))
    assert fp.dhash == as_int(imagehash.dhash(grey))
    assert 0 <= fp.phash < 2**64 and 0 <= fp.dhash < 2**64


def test_phash_is_within_a_few_bits_of_imagehash_on_the_full_original():
    original = photo((1600, 1200), seed=3)
    fp = fingerprint(encode(original, quality=92))
    assert distance(fp.phash, as_int(imagehash.phash(original))) <= 4


def test_a_resized_copy_has_a_phash_within_a_few_bits():
    original = photo((1600, 1200), seed=1)
    copy = original.resize((480, 360), Image.Resampling.LANCZOS)
    a, b = fingerprint(encode(original, quality=92)), fingerprint(encode(copy, quality=75))
    assert distance(a.phash, b.phash) <= 4
    assert distance(a.phash, fingerprint(encode(photo((1600, 1200), seed=2))).phash) > 12


def test_dihedral_hashes_start_with_phash_and_hash_each_transform_of_the_rendition():
    fp = fingerprint(encode(photo((500, 300), seed=4), quality=90))
    grey = rendition_image(fp)
    assert len(fp.phash_dihedral) == len(DIHEDRAL) == 8
    assert fp.phash_dihedral[0] == fp.phash
    for name, value in zip(DIHEDRAL, fp.phash_dihedral, strict=True):
        turned = grey if PIL_TRANSPOSE[name] is None else grey.transpose(PIL_TRANSPOSE[name])
        assert distance(value, as_int(imagehash.phash(turned))) <= 2, name
    assert len(set(fp.phash_dihedral)) == 8


def test_a_rotated_copy_matches_the_originals_dihedral_hash_and_vice_versa():
    original = photo((480, 360), seed=5)
    rotated = original.transpose(Image.Transpose.ROTATE_90)
    a, b = fingerprint(encode(original, quality=90)), fingerprint(encode(rotated, quality=85))
    assert distance(b.phash, a.phash_dihedral[DIHEDRAL.index("rot90")]) <= 2
    assert distance(a.phash, b.phash_dihedral[DIHEDRAL.index("rot270")]) <= 2
    assert distance(a.phash, b.phash) > 12


def test_a_mirrored_copy_matches_the_originals_flip_h_hash():
    original = photo((480, 360), seed=6)
    mirrored = original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    a, b = fingerprint(encode(original, quality=90)), fingerprint(encode(mirrored, quality=90))
    assert distance(b.phash, a.phash_dihedral[DIHEDRAL.index("flip_h")]) <= 2


def test_exif_orientation_6_jpeg_agrees_with_the_upright_image():
    upright = photo((480, 360), seed=8)
    sensor = upright.transpose(Image.Transpose.ROTATE_90)  # how a phone held upright stores it
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated_by_tag = fingerprint(encode(sensor, quality=90, exif=exif.tobytes()))
    plain = fingerprint(encode(upright, quality=90))
    assert (rotated_by_tag.orientation, rotated_by_tag.width, rotated_by_tag.height) == (6, 480, 360)
    assert rotated_by_tag.rendition_size == plain.rendition_size == (256, 192)
    assert distance(rotated_by_tag.phash, plain.phash) <= 2
    assert rotated_by_tag.metadata["summary"]["orientation"] == 6


# --- modes and containers ------------------------------------------------------------


def test_a_cmyk_jpeg_is_hashed_like_its_rgb_original():
    original = photo(seed=9)
    fp = fingerprint(encode(original.convert("CMYK"), quality=95))
    assert fp.mode == "CMYK"
    assert distance(fp.phash, fingerprint(encode(original, quality=95)).phash) <= 3
    assert Image.open(io.BytesIO(fp.thumbnails[THUMB_SMALL])).mode == "RGB"


def test_a_16_bit_greyscale_png_is_scaled_to_8_bits_not_clipped():
    grey8 = photo(seed=10).convert("L")
    samples16 = np.asarray(grey8).astype(np.uint16) * 257
    fp = fingerprint(encode(Image.fromarray(samples16), "PNG"))
    assert (fp.mode, fp.bit_depth) == ("I;16", 16)
    assert abs(np.frombuffer(fp.rendition, np.uint8).mean() - np.asarray(grey8).mean()) < 3
    assert distance(fp.phash, fingerprint(encode(grey8, "PNG")).phash) <= 2


def test_a_palette_png_with_transparency_is_composited_on_white():
    image = Image.new("P", (200, 100), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    ImageDraw.Draw(image).rectangle((100, 0, 199, 99), fill=1)
    fp = fingerprint(encode(image, "PNG", transparency=0))
    grey = np.frombuffer(fp.rendition, np.uint8).reshape(fp.rendition_size[1], fp.rendition_size[0])
    assert fp.mode == "P"
    assert grey[:, :90].min() >= 250  # transparent black shows as white paper
    assert grey[:, 110:].max() < 120


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_images_with_alpha_are_composited_on_white(mode: str):
    image = photo((200, 100), seed=11).convert(mode)
    image.putalpha(Image.new("L", (200, 100), 0).crop((0, 0, 200, 100)))
    alpha = Image.new("L", (200, 100), 0)
    ImageDraw.Draw(alpha).rectangle((100, 0, 199, 99), fill=255)
    image.putalpha(alpha)
    fp = fingerprint(encode(image, "PNG"))
    grey = np.frombuffer(fp.rendition, np.uint8).reshape(fp.rendition_size[1], fp.rendition_size[0])
    assert fp.mode == mode
    assert grey[:, :90].min() >= 250


def test_a_bilevel_group4_tiff_is_fingerprinted_with_bit_depth_1():
    image = photo(seed=12).convert("1")
    fp = fingerprint(encode(image, "TIFF", compression="group4"))
    assert (fp.format, fp.mode, fp.bit_depth) == ("TIFF", "1", 1)
    assert set(np.unique(np.frombuffer(fp.rendition, np.uint8))) - {0, 255}  # greyscale, not raw bits


def test_an_animated_gif_reports_its_frames_and_fingerprints_the_first():
    frames = [photo((240, 180), seed=s) for s in (13, 14, 15)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    fp = fingerprint(buffer.getvalue())
    first_alone = fingerprint(encode(frames[0], "GIF"))
    assert (fp.format, fp.page_count) == ("GIF", 3)
    assert distance(fp.phash, first_alone.phash) <= 2
    assert distance(fp.phash, fingerprint(encode(frames[2], "GIF")).phash) > 12


def test_a_multi_page_tiff_reports_three_pages_and_fingerprints_the_first():
    pages = [photo((240, 180), seed=s) for s in (16, 17, 18)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    fp = fingerprint(buffer.getvalue())
    assert (fp.format, fp.page_count, fp.width, fp.height) == ("TIFF", 3, 240, 180)
    assert fp.phash == fingerprint(encode(pages[0], "TIFF")).phash


@pytest.mark.parametrize(
    ("mode", "compression"),
    [
        ("RGB", "raw"),
        ("RGB", "tiff_lzw"),
        ("RGB", "tiff_adobe_deflate"),
        ("RGB", "packbits"),
        ("L", "tiff_lzw"),
        ("P", "raw"),
    ],
)
def test_a_large_strip_tiff_decoded_band_by_band_matches_the_same_pixels_as_png(mode: str, compression: str):
    image = photo((700, 467), seed=24).resize((2100, 1401)).convert(mode)  # over 2048 px: shrunk while decoding
    tiff = fingerprint(encode(image, "TIFF", compression=compression))
    png = fingerprint(encode(image, "PNG", compress_level=1))
    assert (tiff.width, tiff.height, tiff.mode) == (2100, 1401, mode)
    assert tiff.rendition == png.rendition
    assert tiff.thumbnails == png.thumbnails


# --- failures ------------------------------------------------------------------------


def test_a_truncated_jpeg_fails_with_a_truncation_reason():
    data = encode(photo((640, 480)), quality=90)
    code, params = error_reason(data[: len(data) // 2])
    assert code == Failure.CORRUPT
    assert "truncated" in params["detail"]


def test_an_empty_file_fails_as_empty(tmp_path: Path):
    assert error_reason(b"") == (Failure.EMPTY, {})
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(FingerprintError) as info:
        fingerprint_file(tmp_path / "empty.jpg")
    assert info.value.code == Failure.EMPTY


def test_html_renamed_to_jpg_fails_as_not_an_image(tmp_path: Path):
    path = tmp_path / "photo.jpg"
    path.write_text("<!DOCTYPE html>\n<html><body><h1>404 Not Found</h1></body></html>\n")
    with pytest.raises(FingerprintError) as info:
        fingerprint_file(path)
    assert (info.value.code, info.value.params) == NOT_AN_IMAGE


def test_an_svg_with_a_script_fails_as_not_an_image():
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert error_reason(svg) == NOT_AN_IMAGE


def test_plain_text_fails_as_not_an_image():
    assert error_reason("Accession register, 1962\n館藏登記冊\n".encode()) == NOT_AN_IMAGE


def test_unknown_binary_fails_as_an_unsupported_file_type():
    assert error_reason(random.Random(0).randbytes(4096)) == (Failure.UNSUPPORTED_TYPE, {})


def test_a_png_header_claiming_50000_by_50000_pixels_is_refused_before_decoding():
    code, params = error_reason(png_header_only(50_000, 50_000))
    assert (code, params["pixels"]) == (Failure.TOO_LARGE, "2,500")


def test_the_max_pixels_argument_is_enforced_from_the_header():
    reason = error_reason(encode(photo((400, 300))), max_pixels=100_000)
    assert reason == (Failure.TOO_LARGE, {"pixels": "0.12", "limit": "0.1"})


def test_pillows_own_bomb_warning_does_not_block_images_under_max_pixels(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fingerprint(encode(photo((300, 200)))).width == 300  # 60k pixels: Pillow only warns
    code, params = error_reason(encode(photo((400, 300))))
    assert (code, params["pixels"]) == (Failure.TOO_LARGE, "0.12")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "TIFF", "WEBP", "BMP"])
def test_damaged_files_raise_only_fingerprint_error(fmt: str):
    good = encode(photo((120, 90), seed=19), fmt)
    rng = random.Random(fmt)
    for _ in range(25):
        damaged = bytearray(good)
        for _ in range(rng.randrange(1, 12)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        cut = rng.choice([len(damaged), rng.randrange(1, len(damaged))])
        try:
            fingerprint(bytes(damaged[:cut]))
        except FingerprintError as exc:
            assert exc.code in set(Failure)


# --- renditions and thumbnails -------------------------------------------------------


def test_the_rendition_is_greyscale_bytes_with_longest_side_256_and_the_same_aspect():
    fp = fingerprint(encode(photo((900, 300)), "PNG"))
    assert fp.rendition_size == (RENDITION_SIDE, 85)
    assert len(fp.rendition) == fp.rendition_size[0] * fp.rendition_size[1]


def test_a_small_image_is_never_upscaled():
    fp = fingerprint(encode(photo((120, 60)), "PNG"))
    assert fp.rendition_size == (120, 60)
    assert {side: Image.open(io.BytesIO(b)).size for side, b in fp.thumbnails.items()} == {
        THUMB_SMALL: (120, 60),
        THUMB_PREVIEW: (120, 60),
    }


def test_thumbnails_are_rgb_jpegs_with_the_right_longest_side():
    fp = fingerprint(encode(photo((600, 450)).resize((2400, 1800)), "PNG", compress_level=1))
    small, preview = (Image.open(io.BytesIO(fp.thumbnails[side])) for side in (THUMB_SMALL, THUMB_PREVIEW))
    assert (small.format, small.mode, small.size) == ("JPEG", "RGB", (256, 192))
    assert (preview.format, preview.mode, preview.size) == ("JPEG", "RGB", (1024, 768))


def test_a_12_megapixel_jpeg_is_drafted_to_a_preview_of_about_1000_pixels():
    fp = fingerprint(encode(photo((1000, 750), seed=20).resize((4000, 3000)), quality=90))
    preview = Image.open(io.BytesIO(fp.thumbnails[THUMB_PREVIEW]))
    assert (fp.width, fp.height) == (4000, 3000)
    assert 896 <= max(preview.size) <= THUMB_PREVIEW
    assert fp.rendition_size == (256, 192)


# --- borders -------------------------------------------------------------------------


def test_an_image_without_a_border_has_no_trimmed_hash():
    assert fingerprint(encode(photo((480, 360), seed=21), quality=90)).phash_trimmed is None


def test_a_copy_on_a_white_mount_has_a_trimmed_hash_close_to_the_originals():
    original = photo((480, 360), seed=22)
    mounted = Image.new("RGB", (640, 520), "white")
    mounted.paste(original, (80, 80))
    a, b = fingerprint(encode(original, quality=90)), fingerprint(encode(mounted, quality=90))
    assert b.phash_trimmed is not None
    assert distance(b.phash_trimmed, a.phash) <= 4
    assert distance(b.phash, a.phash) > distance(b.phash_trimmed, a.phash)


def test_a_letterboxed_copy_has_a_trimmed_hash_close_to_the_originals():
    original = photo((480, 270), seed=23)
    letterboxed = Image.new("RGB", (480, 360), "black")
    letterboxed.paste(original, (0, 45))
    a, b = fingerprint(encode(original, quality=90)), fingerprint(encode(letterboxed, quality=90))
    assert b.phash_trimmed is not None
    assert distance(b.phash_trimmed, a.phash) <= 4


# --- embedded metadata ---------------------------------------------------------------


def exif_with_chinese() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010E] = "維港煙花 中文描述".encode()  # ImageDescription, ASCII type holding UTF-8
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R5"
    exif[0x0131] = "Adobe Lightroom Classic"
    exif[0x013B] = "陳大文".encode("big5")  # Artist written by an old Big5 tool
    exif[0x8298] = "© 香港博物館".encode()
    exif[0x9C9B] = "標題".encode("utf-16-le")  # XPTitle
    exif[0x9C9E] = "香港;煙花".encode("utf-16-le")  # XPKeywords
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2021:05:03 14:22:01"  # DateTimeOriginal
    sub[0x9011] = "+08:00"  # OffsetTimeOriginal
    # UserComment: little-endian UCS-2 (as Windows tools write it) inside Pillow's big-endian EXIF.
    sub[0x9286] = b"UNICODE\x00" + "用戶評論".encode("utf-16-le")
    sub[0x927C] = b"\x07" * 5000  # MakerNote
    sub[0x829A] = IFDRational(1, 0)  # ExposureTime with a zero denominator
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (IFDRational(22, 1), IFDRational(17, 1), IFDRational(2430, 100))
    gps[3], gps[4] = "E", (IFDRational(114, 1), IFDRational(10, 1), IFDRational(3000, 100))
    return exif


def test_exif_text_in_utf8_big5_and_utf16_survives_as_chinese():
    fp = fingerprint(encode(photo(), quality=90, exif=exif_with_chinese().tobytes()))
    exif, summary = fp.metadata["exif"], fp.metadata["summary"]
    assert exif["ImageDescription"] == "維港煙花 中文描述"
    assert exif["Artist"] == "陳大文"
    assert exif["XPTitle"] == "標題"
    assert exif["UserComment"] == "用戶評論"
    assert summary["caption"] == "維港煙花 中文描述"
    assert summary["creator"] == "陳大文"
    assert summary["title"] == "標題"
    assert summary["rights"] == "© 香港博物館"
    assert summary["keywords"] == ["香港", "煙花"]


def test_exif_capture_date_camera_software_and_gps_are_normalised():
    summary = fingerprint(encode(photo(), quality=90, exif=exif_with_chinese().tobytes())).metadata["summary"]
    assert summary["capture_date"] == "2021-05-03T14:22:01+08:00"
    assert summary["camera"] == "Canon EOS R5"
    assert summary["software"] == "Adobe Lightroom Classic"
    lat, lon = summary["gps"]
    assert lat == pytest.approx(22 + 17 / 60 + 24.3 / 3600, abs=1e-6)
    assert lon == pytest.approx(114.175, abs=1e-6)


def test_metadata_is_json_serialisable_with_binary_blobs_replaced_by_size_notes():
    metadata = fingerprint(encode(photo(), quality=90, exif=exif_with_chinese().tobytes())).metadata
    assert json.loads(json.dumps(metadata, ensure_ascii=False, allow_nan=False)) == metadata
    assert metadata["exif"]["MakerNote"] == {"omitted_bytes": 5000}
    assert metadata["exif"]["ExposureTime"] is None
    assert set(metadata) == {"exif", "iptc", "xmp", "summary", "warnings"}


def test_xmp_dublin_core_in_chinese_survives_in_jpeg():
    fp = fingerprint(encode(photo(), quality=90, xmp=XMP_PACKET.encode()))
    xmp, summary = fp.metadata["xmp"], fp.metadata["summary"]
    assert xmp["dc:title"] == {"x-default": "維多利亞港夜景"}
    assert xmp["dc:subject"] == ["香港", "harbour"]
    assert xmp["xmp:CreatorTool"] == "Capture One"
    assert summary["title"] == "維多利亞港夜景"
    assert summary["caption"] == "中文說明"
    assert summary["creator"] == "陳大文; Lee Mei-ling"
    assert summary["keywords"] == ["香港", "harbour"]
    assert summary["rights"] == "© 香港博物館"
    assert summary["capture_date"] == "1962-07-01T09:30:00+08:00"


def test_xmp_in_a_png_itxt_chunk_is_read():
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET)
    fp = fingerprint(encode(photo(), "PNG", pnginfo=info))
    assert fp.metadata["summary"]["title"] == "維多利亞港夜景"


def test_xmp_with_a_doctype_is_ignored_with_a_warning_and_the_image_still_fingerprints():
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    packet = bomb + XMP_PACKET.replace("維多利亞港夜景", "&b;")
    fp = fingerprint(encode(photo(), quality=90, xmp=packet.encode()))
    assert fp.metadata["xmp"] == {}
    assert any("DOCTYPE" in w for w in fp.metadata["warnings"])
    assert fp.phash


def test_iptc_in_utf8_declared_by_the_coded_character_set_survives():
    datasets = [
        (1, 90, b"\x1b%G"),
        (2, 5, "維港".encode()),
        (2, 25, "中文".encode()),
        (2, 25, "香港".encode()),
        (2, 80, "陳大文".encode()),
        (2, 116, "© 香港博物館".encode()),
        (2, 120, "煙花匯演".encode()),
    ]
    fp = fingerprint(with_iptc(encode(photo(), quality=90), datasets))
    iptc, summary = fp.metadata["iptc"], fp.metadata["summary"]
    assert iptc["CodedCharacterSet"] == "utf-8"
    assert iptc["Keywords"] == ["中文", "香港"]
    assert (summary["title"], summary["caption"], summary["creator"]) == ("維港", "煙花匯演", "陳大文")
    assert summary["keywords"] == ["中文", "香港"]
    assert summary["rights"] == "© 香港博物館"


def test_iptc_in_big5_without_a_declared_character_set_survives():
    datasets = [(2, 25, "中文".encode("big5")), (2, 120, "香港歷史照片".encode("big5"))]
    fp = fingerprint(with_iptc(encode(photo(), quality=90), datasets))
    assert fp.metadata["iptc"]["Keywords"] == ["中文"]
    assert fp.metadata["summary"]["caption"] == "香港歷史照片"


def test_an_image_without_metadata_has_an_empty_summary():
    summary = fingerprint(encode(photo(), "PNG")).metadata["summary"]
    assert summary == {
        "capture_date": None,
        "camera": None,
        "software": None,
        "gps": None,
        "orientation": 1,
        "title": None,
        "caption": None,
        "creator": None,
        "keywords": [],
        "rights": None,
    }


# --- images whose bytes are also a script ----------------------------------------------


def _identify(data: bytes) -> str:
    from dedup.imaging.fingerprint import identify

    return identify(io.BytesIO(data))


def _reads_as_script(data: bytes) -> bool:
    from dedup.imaging.sniff import is_polyglot

    return is_polyglot(io.BytesIO(data))


def _gif(size: tuple[int, int], noise: bool, seed: int = 0) -> bytes:
    if noise:
        pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        return encode(Image.fromarray(pixels).convert("P"), "GIF")
    return encode(photo(size, seed).convert("P") if min(size) >= 48 else Image.new("P", size, 7), "GIF")


def test_a_gif_whose_width_bytes_open_a_javascript_comment_is_refused_as_a_polyglot():
    gif = _gif((10799, 2), noise=False)  # 10799 = 0x2A2F, stored little-endian as "/*"
    assert gif[6:8] == b"/*" and b"*/" not in gif and _identify(gif) == "GIF"
    with pytest.raises(FingerprintError) as refused:
        _identify(gif + b"*/=alert(document.domain)//")
    assert refused.value.code == Failure.POLYGLOT


def test_a_jpeg_whose_first_segment_is_12074_bytes_long_and_carries_a_script_is_refused_as_a_polyglot():
    jpeg = encode(photo())
    app0 = b"\xff\xe0/*JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"  # 0x2F2A = 12074, "/*"
    app0 += b"\x00" * (0x2F2A + 2 - len(app0))
    script = b"*/=alert(document.domain);/*"
    comment = b"\xff\xfe" + (len(script) + 2).to_bytes(2, "big") + script
    with pytest.raises(FingerprintError) as refused:
        _identify(jpeg[:2] + app0 + comment + jpeg[2:] + b"*/")
    assert refused.value.code == Failure.POLYGLOT


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a/*\x0f\x00\x01\x00\x80\x00\x00*/=alert(1)//\x00\x01\x00",
        b"GIF89a/*\x00\x01*/=alert(1)/*\x00\xff\x00 ends in a comment */",
        b"GIF89a='\x00\x01\\\n\x03\\'';alert(1)",  # a backslash continues the line and escapes a quote
        b"GIF89a=`\x00\x01${'`'}\x00\x02`;alert(1)",
        b"GIF89a=/\x00\x01\x02[/]/;alert(1)",
        b"GIF89a=1/2/*\x00\x01*/;alert(1)",
        b"GIF89a<!--\x00\x01\nalert(1)",
        b"GIF89a\n-->\x00\x01\nalert(1)",
        b"GIF89a//\x00\x01\xe2\x80\xa8alert(1)",  # U+2028 ends a line in a UTF-8 script
        b"\xff\xd8\xff\xe0/*\x00\x10JFIF\x00*/=alert(1)/*\xff\xd9*/",  # Latin-1 makes \xff\xd8\xff\xe0 a name
    ],
    ids=["comment", "to-the-end", "string", "template", "regex", "division", "<!--", "-->", "u2028", "jpeg"],
)
def test_bytes_that_parse_as_javascript_from_first_to_last_read_as_a_script(data):
    assert _reads_as_script(data)


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a/*\x00\x01 never closed",
        b"GIF89a/*\x00*/=alert(1)\x00\x01",
        b"GIF89a='\x00\x01",
        b"GIF89a='\x00\n';alert(1)",
        b"GIF89a=/\x00\n/;alert(1)",
        b"GIF89a=`${\x00}`",
    ],
    ids=["open-comment", "binary-after-it", "open-string", "string-over-lines", "regex-over-lines", "binary-in-${}"],
)
def test_bytes_that_stop_being_javascript_before_the_end_do_not(data):
    assert not _reads_as_script(data)


# Widths and heights whose bytes after "GIF89a" read as script: "/*" 10799, "//" 12079, "='" 10045, "=-" 11581,
# quotes and backticks in the low byte (34, 39, 96, 290, 551), ";" and "=" (59, 61, 315, 573), "/" and "*" (47 x 42).
GIF_SIZES = [
    (1, 1), (16, 16), (34, 39), (47, 42), (59, 61), (96, 96), (100, 75), (255, 256), (290, 551), (315, 573),
    (320, 240), (640, 480), (800, 600), (1024, 768), (1280, 720), (1920, 1080), (10045, 2), (10799, 3),
    (11581, 2), (12079, 3), (3, 10799), (3, 12079), (2, 10045),
]  # fmt: skip


@pytest.mark.parametrize("noise", [False, True], ids=["photo", "noise"])
@pytest.mark.parametrize("size", GIF_SIZES, ids=[f"{w}x{h}" for w, h in GIF_SIZES])
def test_ordinary_gifs_of_many_sizes_are_accepted(size, noise):
    assert _identify(_gif(size, noise)) == "GIF"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "WEBP", "TIFF"])
@pytest.mark.parametrize("size", [(1, 1), (47, 42), (320, 240), (10799, 3), (3, 12079)], ids=str)
def test_ordinary_images_of_the_other_formats_are_accepted(fmt, size):
    assert _identify(encode(photo(size) if min(size) >= 48 else Image.new("RGB", size, (200, 30, 30)), fmt)) == fmt
