"""The evaluation-set generator: look-alikes differ in one region only, edits keep that region clear, scoring."""

import json

import numpy as np
import pytest
from PIL import Image

from bench import edits, families, real_material
from bench.accuracy import score
from bench.dataset import CATEGORIES, Record, load_dataset, make_dataset


class CollectingWriter:
    """Stands in for bench.dataset.Writer: keeps each member's picture and region instead of writing files."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.members: list[tuple[str, np.ndarray, tuple]] = []

    def add(self, group_id, img, fmt, content, n_copies, family=None, family_kind=None, source=None, **kw):
        self.members.append((group_id, np.asarray(img.convert("RGB")), kw["protect"]))


def _inside(box: tuple, pad: int = 2) -> tuple:
    return (int(box[0]) - pad, int(box[1]) - pad, int(box[2]) + pad + 1, int(box[3]) + pad + 1)


@pytest.mark.parametrize("build", [families.form_field, families.date_stamp, families.note])
def test_one_region_family_members_differ_only_inside_one_compact_region(build):
    w = CollectingWriter(seed=3)
    build(w, "fam", lambda: 0)
    assert len(w.members) >= 12
    stack = np.stack([pixels for _, pixels, _ in w.members])
    assert len({m.tobytes() for m in stack}) == len(stack), "two members are the same picture"
    changed = (stack != stack[0]).any(axis=(0, 3))
    region = np.zeros_like(changed)
    for *_, box in w.members:
        x0, y0, x1, y1 = _inside(box)
        region[max(0, y0) : y1, max(0, x0) : x1] = True
    assert not (changed & ~region).any(), "members differ outside their regions"
    assert region.mean() < 0.05, "the regions together are not compact"


@pytest.mark.parametrize("overlay", [edits.caption_bar, edits.caption_text_overlay, edits.stamp, edits.handwriting])
def test_overlays_never_cover_the_protected_region(overlay):
    page = Image.new("RGB", (850, 1100), (250, 250, 250))
    protect = (300.0, 450.0, 560.0, 520.0)
    x0, y0, x1, y1 = (int(v) for v in protect)
    for seed in range(12):
        out, params, _ = overlay(np.random.default_rng(seed), page, protect)
        region = np.asarray(out.convert("RGB"))[y0:y1, x0:x1]
        assert (region == 250).all(), f"seed {seed} drew over the region: {params}"


def test_caption_bars_stay_within_the_drawn_size_ranges():
    photo = Image.new("RGB", (1000, 600), (90, 120, 60))
    for seed in range(40):
        _, params, _ = edits.caption_bar(np.random.default_rng(seed), photo)
        along, across = (
            (params["height"], params["width"]) if params["vertical"] else (params["width"], params["height"])
        )
        assert 0.10 <= along <= 0.60 + 1e-3
        assert across <= 0.15 + 1e-3
        assert 0.35 <= params["alpha"] <= 1.0


def test_perspective_moves_no_corner_more_than_three_percent():
    img = Image.new("RGB", (640, 480), (200, 10, 10))
    for seed in range(20):
        _, params, _ = edits.perspective(np.random.default_rng(seed), img)
        assert max(abs(v) for v in params["corner_shifts"]) <= 0.03


def test_a_set_made_without_the_material_cache_is_procedural_and_says_so(tmp_path, capsys):
    records = make_dataset(tmp_path / "set", n_originals=3, seed=5, n_families=0, workers=1, material=tmp_path / "none")
    assert "procedural pictures only" in capsys.readouterr().out
    assert load_dataset(tmp_path / "set") == records
    copies = [r for r in records if r.transform != "original"]
    assert copies and all(r.category in CATEGORIES for r in copies)
    assert all(r.category == "original" for r in records if r.transform == "original")
    assert not [r for r in records if r.source and not r.source.startswith("python-package:")]
    for r in records:
        assert (tmp_path / "set" / r.path.split("/")[-1]).exists()
        json.loads(r.params) if r.params else None


def _record(name, group, transform="original", family=None, kind=None, content="form", category=None):
    return Record(name, group, transform, "original", content, family, kind, category or transform)


def test_possible_pairs_count_as_not_found_and_joined_forms_are_reported(capsys):
    records = [
        _record("a0.png", "a", family="f", kind="form_field"),
        _record("a1.jpg", "a", "jpeg", category="reencode"),
        _record("b0.png", "b", family="f", kind="form_field"),
    ]
    export = {
        "clusters": [{"id": 1, "members": [{"original_path": "a0.png"}, {"original_path": "b0.png"}]}],
        "possible": [{"version_ids": [1, 2], "original_paths": ["a0.png", "a1.jpg"], "region": None}],
    }
    score(records, export)
    out = capsys.readouterr().out
    assert "precision 0.0000  recall 0.0000" in out
    assert "  reencode                  0/1     0.000" in out
    assert "  form_field       1/1      1 in 1" in out
    assert "clusters joining two different documents or forms: 1 (1 file pairs across groups)" in out
    assert "possible pairs (reported for review, counted as not found above): 1 (true copies 1," in out


def test_real_material_never_asks_for_a_held_out_package(monkeypatch):
    assert not set(real_material.packages_needed()) & real_material.FORBIDDEN
    monkeypatch.setattr(real_material, "PDFS", (("r-doc-pdf", "usr/share/doc/r-doc-pdf/R-intro.pdf", 4),))
    with pytest.raises(SystemExit, match="forbidden"):
        real_material.packages_needed()
