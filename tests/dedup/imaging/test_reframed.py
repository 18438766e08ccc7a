"""Reframed hashes: copies whose other hashes fall beyond the search radius still meet their original in the index.

Each case first shows that the hashes without the reframed ones are too far apart to make the pair
candidates, then that with them the pair is within the radius.
"""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from dedup.imaging.compare import searchable_hashes, upright_hashes
from dedup.imaging.fingerprint import fingerprint_file
from dedup.imaging.hashes import reframed_phashes
from dedup.imaging.renditions import renditions
from dedup.imaging.straighten import straightened_page, straightened_picture
from tests.images import encode, scene
from tests.pictures import make_document_page, make_photo, random_layout

RADIUS = 8  # config/settings/base.py DUPFINDER_MATCH_RADIUS


def _fingerprint(image: Image.Image):
    return fingerprint_file(io.BytesIO(encode(image, "PNG")))


def _index_distance(a, b, *, reframed: bool) -> int:
    """The smallest distance the index compares: an upright hash of either side against any hash of the other."""

    def hashes(fp, pick):
        found = pick(fp)
        return found if reframed else found - set(fp.phash_reframed)

    return min(
        min((x ^ y).bit_count() for x in hashes(a, upright_hashes) for y in hashes(b, searchable_hashes)),
        min((x ^ y).bit_count() for x in hashes(b, upright_hashes) for y in hashes(a, searchable_hashes)),
    )


def _page(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return make_document_page(rng, random_layout(rng), 1).convert("L")


def _on_bed(page: Image.Image, degrees: float, bed: int = 90) -> Image.Image:
    """A sheet scanned at a slant on a darker scanner bed, a little smaller in the frame."""
    frame = Image.new("L", (int(page.width * 1.15), int(page.height * 1.15)), bed)
    turned = page.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=bed)
    frame.paste(turned, ((frame.width - turned.width) // 2, (frame.height - turned.height) // 2))
    return frame


@pytest.mark.parametrize(("seed", "degrees"), [(5, 6), (6, 8), (7, -9)])
def test_a_page_scanned_at_a_slant_on_a_bed_meets_the_straight_page(seed, degrees):
    page = _page(seed)
    a, b = _fingerprint(page), _fingerprint(_on_bed(page, degrees))
    assert _index_distance(a, b, reframed=False) > RADIUS
    assert _index_distance(a, b, reframed=True) <= RADIUS


@pytest.mark.parametrize("degrees", [5, 8, -10])
def test_a_photograph_turned_inside_a_fill_meets_the_upright_one(degrees):
    photo = make_photo(np.random.default_rng(7), (720, 540))
    turned = photo.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 236, 236))
    a, b = _fingerprint(photo), _fingerprint(turned)
    assert _index_distance(a, b, reframed=False) > RADIUS
    assert _index_distance(a, b, reframed=True) <= RADIUS


@pytest.mark.parametrize(
    ("corner", "share"), [("bottom-left", 0.5), ("top-right", 0.4), ("bottom-right", 0.6), ("top-left", 0.55)]
)
def test_a_caption_bar_in_any_corner_leaves_one_hash_untouched(corner, share):
    photo = make_photo(np.random.default_rng(7), (720, 540))
    captioned = photo.copy()
    draw = ImageDraw.Draw(captioned)
    height, width = int(540 * 0.14), int(720 * share)
    top = 0 if corner.startswith("top") else 540 - height
    left = 0 if corner.endswith("left") else 720 - width
    draw.rectangle((left, top, left + width, top + height), fill=(20, 20, 20))
    draw.text((left + 10, top + 20), "Courtesy of the Hong Kong Museum of History", fill=(240, 240, 240))
    a, b = _fingerprint(photo), _fingerprint(captioned)
    assert _index_distance(a, b, reframed=False) > RADIUS
    assert _index_distance(a, b, reframed=True) <= RADIUS


def test_a_straight_page_is_levelled_where_it_lies_and_a_picture_filling_its_frame_is_left_alone():
    grey = np.asarray(renditions(_page(5))[0])
    block = straightened_page(grey)
    assert block is not None and block.shape[0] < grey.shape[0]  # cut to the print, inside the margins
    photo = np.asarray(renditions(scene(3))[0])
    assert straightened_picture(photo) is None
    assert len(reframed_phashes(photo)) == 4  # no turn: only the four with an edge left out


def test_blank_and_tiny_pictures_get_no_straightened_hash_and_no_error():
    blank = np.full((256, 181), 250, dtype=np.uint8)
    assert straightened_page(blank) is None
    assert len(reframed_phashes(np.full((3, 200), 128, dtype=np.uint8))) == 0


@pytest.mark.parametrize("seed", range(12))
def test_odd_pictures_never_raise(seed):
    """Noise, specks on paper, a dark frame with one bright dot, thin strips: hashes or nothing, never an error."""
    rng = np.random.default_rng(seed)
    height, width = int(rng.integers(4, 257)), int(rng.integers(4, 257))
    picture = np.full((height, width), int(rng.integers(0, 256)), dtype=np.uint8)
    kind = seed % 4
    if kind == 0:
        picture = rng.integers(0, 256, (height, width), dtype=np.uint8)
    elif kind == 1:
        picture[:] = 245
        picture[rng.integers(0, height, 40), rng.integers(0, width, 40)] = 0
    elif kind == 2:
        picture[:] = 10
        picture[height // 2, width // 2] = 250
    found = reframed_phashes(picture)
    assert all(0 <= h < 2**64 for h in found)
