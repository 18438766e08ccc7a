"""Matching on PostgreSQL: the shared hash index, verification and clusters curators can trust."""

import importlib
import json

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image, ImageFilter, ImageOps

from dedup.imaging.compare import upright_hashes
from dedup.imaging.index import to_signed
from dedup.matching import edges as matching_edges
from dedup.matching.clusters import version_match
from dedup.matching.rebuild import clusters_rebuild
from dedup.models import Cluster, ClusterMember, Fingerprint, HashEntry, MatchEdge, NotDuplicatePair
from tests.images import encode, one_place_changed, scene
from tests.pictures import (
    make_document_page,
    make_form,
    make_photo,
    random_form_template,
    random_form_values,
    random_layout,
)

pytestmark = pytest.mark.django_db


def _partition():
    groups = {}
    for member in ClusterMember.objects.all():
        groups.setdefault(member.cluster_id, set()).add(member.version.original_path)
    return sorted(sorted(g) for g in groups.values())


def _kinds():
    return {m.version.original_path: m.kind for m in ClusterMember.objects.select_related("version")}


def test_copies_of_one_picture_form_one_cluster_and_others_stay_out(add_version):
    original = scene(1, (800, 600))
    add_version("a/original.jpg", encode(original, quality=92))
    add_version("b/small.jpg", encode(original.resize((400, 300)), quality=80))
    add_version("b/rotated.jpg", encode(original.rotate(90, expand=True), quality=90))
    add_version("b/mirrored.png", encode(ImageOps.mirror(original), "PNG"))
    add_version("b/grey.jpg", encode(ImageOps.grayscale(original), quality=90))
    add_version("c/other.jpg", encode(scene(2, (800, 600)), quality=92))
    assert _partition() == [["a/original.jpg", "b/grey.jpg", "b/mirrored.png", "b/rotated.jpg", "b/small.jpg"]]
    kinds = _kinds()
    assert kinds["b/rotated.jpg"] == "rotated"
    assert kinds["b/mirrored.png"] == "rotated"
    assert kinds["b/small.jpg"] == "near"


def test_exact_and_same_pixel_copies_are_named_as_such(add_version):
    original = scene(3)
    png = encode(original, "PNG")
    add_version("a/master.png", png)
    add_version("b/master.png", png)
    add_version("c/master.bmp", encode(original, "BMP"))
    kinds = _kinds()
    assert kinds["b/master.png"] == "exact"
    assert kinds["c/master.bmp"] == "same_pixels"


def test_a_failed_version_is_never_matched(add_version):
    data = encode(scene(4))
    add_version("ok.jpg", data)
    broken = add_version("broken.jpg", data[: len(data) // 3])
    assert broken.status == "failed"
    assert not ClusterMember.objects.exists()


def test_rebuild_gives_the_same_clusters_as_incremental_matching(add_version):
    for n in range(3):
        picture = scene(10 + n, (700, 500))
        add_version(f"{n}/a.jpg", encode(picture, quality=90))
        add_version(f"{n}/b.png", encode(picture.resize((350, 250)), "PNG"))
        add_version(f"{n}/c.jpg", encode(picture.rotate(180), quality=70))
    add_version("single.jpg", encode(scene(20)))
    incremental = _partition()
    assert len(incremental) == 3
    report = clusters_rebuild()
    assert _partition() == incremental
    assert report.clusters == 3


def test_not_duplicates_decision_survives_rebuild(add_version):
    picture = scene(30)
    a = add_version("a.jpg", encode(picture, quality=90))
    b = add_version("b.jpg", encode(picture.resize((320, 240)), quality=90))
    assert _partition() == [["a.jpg", "b.jpg"]]
    NotDuplicatePair.objects.create(version_a=a, version_b=b)
    clusters_rebuild()
    assert _partition() == []


def test_a_new_copy_of_a_resolved_picture_reopens_its_cluster(add_version):
    picture = scene(40)
    add_version("a.jpg", encode(picture, quality=90))
    add_version("b.jpg", encode(picture, quality=60))
    cluster = Cluster.objects.get()
    cluster.status = Cluster.Status.RESOLVED
    cluster.save(update_fields=["status"])
    add_version("c.png", encode(picture.resize((400, 300)), "PNG"))
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.OPEN
    assert cluster.members.count() == 3


def test_bursts_and_crops_of_one_scene_are_not_clustered(add_version):
    big = scene(50, (1200, 900))
    add_version("crop-left.jpg", encode(big.crop((0, 0, 800, 900)), quality=90))
    add_version("crop-right.jpg", encode(big.crop((400, 0, 1200, 900)), quality=90))
    # Successive shots: the camera moved about a tenth of the frame and the exposure changed.
    add_version("burst-1.jpg", encode(big.crop((0, 0, 1080, 900)), quality=90))
    second = big.crop((120, 0, 1200, 900))
    add_version("burst-2.jpg", encode(Image.eval(second, lambda v: min(255, int(v * 1.15))), quality=90))
    assert _partition() == []


def test_export_clusters_writes_the_stable_json_shape(add_version, tmp_path):
    picture = scene(60)
    add_version("dept/a.jpg", encode(picture, quality=90))
    add_version("dept/sub/b.jpg", encode(picture.resize((320, 240)), quality=85))
    out = tmp_path / "clusters.json"
    call_command("export_clusters", output=str(out))
    data = json.loads(out.read_text())
    (cluster,) = data["clusters"]
    assert cluster["status"] == "open"
    assert {m["original_path"] for m in cluster["members"]} == {"dept/a.jpg", "dept/sub/b.jpg"}
    assert set(cluster["members"][0]) == {"version_id", "original_path", "kind", "score", "authoritative"}


def test_a_greyscale_copy_is_near_not_same_pixels(add_version):
    picture = scene(70)
    add_version("colour.png", encode(picture, "PNG"))
    add_version("grey.png", encode(ImageOps.grayscale(picture), "PNG"))
    assert _kinds()["grey.png"] == "near"


def _rescanned(picture: Image.Image) -> Image.Image:
    """A print scanned again: skewed a little on a light scanner bed, brighter."""
    bed = (238, 238, 238)
    skewed = picture.rotate(1.2, Image.Resampling.BICUBIC, expand=True, fillcolor=bed)
    margin = int(0.02 * max(picture.size))
    canvas = Image.new("RGB", (skewed.width + 2 * margin, skewed.height + 2 * margin), bed)
    canvas.paste(skewed, (margin, margin))
    return Image.eval(canvas.filter(ImageFilter.GaussianBlur(0.7)), lambda v: min(255, int(v * 1.05) + 8))


def test_a_rescan_beyond_the_whole_picture_radius_is_found_by_its_centre_hash(add_version, settings):
    # A tighter radius than the default: from the worker's reduced decode (1/2 here) this rescan's whole-picture
    # hashes come 6 bits from the original's, its centre hashes 2.
    settings.DUPFINDER_MATCH_RADIUS = 5
    picture = scene(5, (800, 600))
    original = add_version("original.jpg", encode(picture, quality=92))
    rescan = add_version("rescan.jpg", encode(_rescanned(picture), quality=85))
    whole = [
        {f.phash, *f.phash_dihedral} | {f.phash_trimmed} - {None} for f in (original.fingerprint, rescan.fingerprint)
    ]
    # The whole-picture hashes alone would never have made the pair candidates.
    assert min((x ^ y).bit_count() for x in whole[0] for y in whole[1]) > settings.DUPFINDER_MATCH_RADIUS
    assert _partition() == [["original.jpg", "rescan.jpg"]]
    clusters_rebuild()
    assert _partition() == [["original.jpg", "rescan.jpg"]]


def test_fingerprints_stored_before_centre_hashes_get_them_from_their_rendition(add_version):
    from django.apps import apps

    backfill = importlib.import_module("dedup.migrations.0005_fingerprint_phash_centre").centre_hashes_backfill
    version = add_version("a.jpg", encode(scene(9), quality=90))
    fingerprint = version.fingerprint
    expected, entries = list(fingerprint.phash_centre), set(version.hash_entries.values_list("value", flat=True))
    only_centre = set(expected) - {fingerprint.phash, fingerprint.phash_trimmed, *fingerprint.phash_dihedral}
    assert expected and only_centre
    Fingerprint.objects.filter(pk=fingerprint.pk).update(phash_centre=[])
    HashEntry.objects.filter(version=version, value__in=only_centre).delete()
    HashEntry.objects.filter(version=version).update(upright=False)
    backfill(apps, None)
    importlib.import_module("dedup.migrations.0006_hashentry_upright").upright_backfill(apps, None)
    fingerprint.refresh_from_db()
    assert fingerprint.phash_centre == expected
    assert set(version.hash_entries.values_list("value", flat=True)) == entries
    # The reframed hashes came later (0013 marks them); 0006 marks the rest.
    assert set(version.hash_entries.filter(upright=True).values_list("value", flat=True)) == {
        to_signed(h) for h in upright_hashes(fingerprint)
    } - set(fingerprint.phash_reframed)


def test_only_the_hashes_of_the_picture_as_uploaded_are_upright(add_version):
    version = add_version("a.jpg", encode(scene(11), quality=90))
    fingerprint = version.fingerprint
    upright = set(version.hash_entries.filter(upright=True).values_list("value", flat=True))
    as_uploaded = {
        fingerprint.phash,
        fingerprint.phash_trimmed,
        fingerprint.phash_centre[0],
        *fingerprint.phash_reframed,
    }
    assert upright == as_uploaded - {None}
    assert version.hash_entries.filter(upright=False).count() >= 8  # the rotations and mirrors


def test_the_original_stays_in_its_cluster_as_ever_more_skewed_copies_arrive_and_rebuild_agrees(add_version):
    picture = make_photo(np.random.default_rng(41), (720, 540))

    def skewed(degrees: float) -> bytes:
        return encode(picture.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(235, 235, 235)))

    original = add_version("original.jpg", encode(picture, quality=92))
    clusters_after_each = []
    for degrees in (2, 3, 4, 6, 9):
        add_version(f"skew{degrees}.jpg", skewed(degrees))
        clusters_after_each.append(ClusterMember.objects.get(version=original).cluster_id)
    assert len(set(clusters_after_each)) == 1  # never dropped, never moved
    assert ClusterMember.objects.filter(cluster_id=clusters_after_each[0]).count() == 6
    incremental = _partition()
    clusters_rebuild()
    assert _partition() == incremental


def test_a_possible_duplicate_joins_no_cluster_and_is_exported_apart_until_a_curator_decides(add_version, tmp_path):
    photo, changed = one_place_changed()
    add_version("harbour/print.png", encode(photo, "PNG"))
    add_version("harbour/press.png", encode(changed.resize((changed.width // 2, changed.height // 2)), "PNG"))
    assert _partition() == []
    out = tmp_path / "clusters.json"
    call_command("export_clusters", output=str(out))
    (pair,) = json.loads(out.read_text())["possible"]
    assert sorted(pair["original_paths"]) == ["harbour/press.png", "harbour/print.png"]
    top, bottom, left, right = pair["region"]
    assert bottom > top and right > left
    a, b = sorted(pair["version_ids"])
    NotDuplicatePair.objects.create(version_a_id=a, version_b_id=b)
    call_command("export_clusters", output=str(out))
    assert json.loads(out.read_text())["possible"] == []


def test_forms_one_digit_apart_are_read_again_from_the_stored_detail_and_kept_apart(add_version):
    rng = np.random.default_rng(3)
    template = random_form_template(rng)
    values = random_form_values(rng, template)
    label = next(f for f in template.fields if f not in ("Name", "Date"))
    form = make_form(template, values)
    neighbour = make_form(template, {**values, label: values[label][:-1] + str((int(values[label][-1]) + 3) % 10)})
    first = add_version("forms/0457.png", encode(form, "PNG"))
    add_version("forms/0458.jpg", encode(neighbour.resize((neighbour.width * 3 // 4, neighbour.height * 3 // 4))))
    add_version("forms/0457-copy.jpg", encode(form.resize((form.width * 3 // 4, form.height * 3 // 4))))
    stored = Fingerprint.objects.get(version=first)
    assert 0 < len(stored.detail) < stored.detail_width * stored.detail_height / 4  # compressed: mostly paper
    assert len(stored.detail_box) == 4
    assert _partition() == [["forms/0457-copy.jpg", "forms/0457.png"]]
    edges = MatchEdge.objects.select_related("version_a", "version_b")
    apart = [e for e in edges if "forms/0458.jpg" in (e.version_a.original_path, e.version_b.original_path)]
    assert len(apart) == 2  # the neighbour against the form and against its copy
    for edge in apart:
        assert not edge.kind and not edge.evidence["possible"] and edge.evidence["regions"][0]["box"]


def _page_at_a_slant_on_a_bed(seed: int, degrees: float) -> tuple[Image.Image, Image.Image]:
    rng = np.random.default_rng(seed)
    page = make_document_page(rng, random_layout(rng), 1).convert("L")
    bed = Image.new("L", (int(page.width * 1.15), int(page.height * 1.15)), 90)
    turned = page.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=90)
    bed.paste(turned, ((bed.width - turned.width) // 2, (bed.height - turned.height) // 2))
    return page, bed


def test_a_page_rescanned_at_a_slant_joins_the_straight_scan_and_rebuild_agrees(add_version):
    page, slanted = _page_at_a_slant_on_a_bed(6, 8)
    add_version("page.png", encode(page, "PNG"))
    add_version("page_slanted.png", encode(slanted, "PNG"))
    assert _partition() == [["page.png", "page_slanted.png"]]
    clusters_rebuild()
    assert _partition() == [["page.png", "page_slanted.png"]]


def test_fingerprints_stored_before_reframed_hashes_get_them_from_their_rendition(add_version):
    from django.apps import apps

    backfill = importlib.import_module("dedup.migrations.0013_fingerprint_reframed").reframed_hashes_backfill
    version = add_version("a.png", encode(_page_at_a_slant_on_a_bed(5, 6)[1], "PNG"))
    fingerprint = version.fingerprint
    expected = list(fingerprint.phash_reframed)
    entries = set(version.hash_entries.values_list("value", flat=True))
    upright = set(version.hash_entries.filter(upright=True).values_list("value", flat=True))
    assert len(expected) == 5 and set(expected) <= upright
    Fingerprint.objects.filter(pk=fingerprint.pk).update(phash_reframed=[])
    HashEntry.objects.filter(version=version, value__in=expected).delete()
    backfill(apps, None)
    fingerprint.refresh_from_db()
    assert fingerprint.phash_reframed == expected
    assert set(version.hash_entries.values_list("value", flat=True)) == entries
    assert set(version.hash_entries.filter(upright=True).values_list("value", flat=True)) == upright


def _chain(versions) -> None:
    """A false chain: each version wrongly recorded as a duplicate of the next, as letterboxed pages once were."""
    MatchEdge.objects.bulk_create(
        MatchEdge(version_a=a, version_b=b, is_duplicate=True, kind="near", score=0.9)
        for a, b in zip(versions, versions[1:], strict=False)
    )


def _pairs_verified_when_matching(monkeypatch, version) -> list[tuple[int, int]]:
    verified = []
    compare = matching_edges.edge_compare

    def counted(a, b):
        verified.append((a.version_id, b.version_id))
        return compare(a, b)

    monkeypatch.setattr(matching_edges, "edge_compare", counted)
    version_match(version_id=version.pk)
    return verified


@pytest.mark.parametrize("length", [6, 12])
def test_a_version_joining_a_component_past_the_limit_is_verified_against_a_bounded_sample_only(
    add_version, settings, monkeypatch, length
):
    """Work for one new version does not grow with its component: past DUPFINDER_MAX_COMPONENT the component
    is held, the newcomer is checked against DUPFINDER_COMPONENT_SAMPLE members, and no other pair is verified."""
    settings.DUPFINDER_MAX_COMPONENT, settings.DUPFINDER_COMPONENT_SAMPLE = 4, 2
    versions = [add_version(f"chain/{i}.png", encode(scene(100 + i, (160, 120)), "PNG")) for i in range(length)]
    _chain(versions)
    newest = versions[-1]
    verified = _pairs_verified_when_matching(monkeypatch, newest)
    assert all(newest.pk in pair for pair in verified)
    assert 0 < len(verified) <= settings.DUPFINDER_COMPONENT_SAMPLE


def test_a_component_within_the_limit_has_every_pair_verified(add_version, settings, monkeypatch):
    """Below the limit a chain is checked all against all, so a false link cannot join pictures unverified."""
    settings.DUPFINDER_MAX_COMPONENT = 50
    versions = [add_version(f"chain/{i}.png", encode(scene(100 + i, (160, 120)), "PNG")) for i in range(5)]
    _chain(versions)
    verified = _pairs_verified_when_matching(monkeypatch, versions[-1])
    assert len(verified) == 5 * 4 // 2 - 4  # every pair but the four chained ones, which have edges
    assert max(len(group) for group in _partition()) < 5  # the false chain is not one cluster


def _marked(picture: Image.Image, box: tuple[int, int, int, int], text: str, fill: tuple[int, int, int]) -> Image.Image:
    from PIL import ImageDraw

    from tests.pictures import _font

    marked = picture.copy()
    draw = ImageDraw.Draw(marked)
    draw.rectangle(box, fill=fill)
    draw.text((box[0] + 6, box[1] + 4), text, fill=(255, 255, 255), font=_font(18))
    return marked


def test_a_captioned_and_a_stamped_copy_both_stay_with_their_original(add_version):
    """Each copy verifies against the original with its own added place; the two refuse each other for those
    two places, which explains the refusal, so it does not vote the second copy out of the cluster."""
    picture = scene(93, (640, 480))
    original = add_version("original.jpg", encode(picture, quality=92))
    captioned = add_version("captioned.jpg", encode(_marked(picture, (0, 440, 240, 480), "Photo: Info", (20, 20, 20))))
    stamped = add_version("stamped.jpg", encode(_marked(picture, (500, 0, 640, 34), "INTERNAL", (180, 20, 20))))
    edges = {(e.version_a_id, e.version_b_id): e for e in MatchEdge.objects.all()}
    assert edges[(original.pk, captioned.pk)].is_duplicate and edges[(original.pk, stamped.pk)].is_duplicate
    between = edges[(captioned.pk, stamped.pk)]
    assert not between.is_duplicate and between.evidence["reason"] in {"region_differs", "possible_overlay"}
    ids = {original.pk, captioned.pk, stamped.pk}
    assert set(Cluster.objects.get(members__version=original).members.values_list("version_id", flat=True)) == ids
    clusters_rebuild()
    assert set(Cluster.objects.get(members__version=original).members.values_list("version_id", flat=True)) == ids
