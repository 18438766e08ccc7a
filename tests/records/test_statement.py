"""The verification statement: plain words, pictures lined up, the authority on record, a PDF whose SHA-256 is
in the audit trail, and `verify_statement` finding it (or saying clearly that it cannot)."""

import base64
import hashlib
import io
import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from PIL import Image, ImageDraw

from collections_app.models import AuditEvent, Item, Version
from collections_app.selectors import audit_chain_verify
from records import services as authority
from records import statement
from records.side_by_side import OUTLINE, picture_pair
from tests.dedup.conftest import add_version  # noqa: F401 - the fixture
from tests.images import encode, scene
from tests.pictures import make_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def original():
    return scene(41, (800, 600))


@pytest.fixture
def official(add_version, original):  # noqa: F811
    return add_version("registry/HKM-0001.jpg", encode(original, quality=92))


@pytest.fixture
def officer(client, role_user):
    user = role_user("records_officer", "officer")
    client.force_login(user)
    return user


def _check(client, data: bytes, name: str = "found.jpg"):
    return client.post(reverse("verify"), {"file": SimpleUploadedFile(name, data)})


def _token(html: str) -> str:
    return re.search(r'name="statement" value="([^"]+)"', html).group(1)


def _picture(data_uri_b64: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data_uri_b64))).convert("RGB")


def test_a_resized_copy_is_named_in_plain_words_with_the_authority_on_record(client, officer, official, original):
    Item.objects.filter(pk=official.item_id).update(authoritative_version=None)  # so an officer can choose it
    authority.item_mark_authoritative(
        item_id=official.item_id, version_id=official.pk, actor=officer, reason="Signed scan from the registry"
    )
    response = _check(client, encode(original.resize((400, 300)), quality=80))
    html = response.content.decode()
    identifier = official.item.identifier
    assert response.status_code == 200
    assert (
        f"This file is a resized copy of the authoritative version of {identifier}; "
        "it is not the authoritative file itself." in html
    )
    assert "Chosen as authoritative by officer on " in html and "(Hong Kong time)" in html
    assert "Reason on record: “Signed scan from the registry”" in html
    words = response.context["statement"].answers[0]
    assert words.matches[0]["kind_words"] == "Near duplicate (resized, recompressed, cropped or edited)"
    # Why verification called it a copy: kept as a code in the signed facts, worded on the page.
    assert (words.matches[0]["reason"], words.matches[0]["reason_params"]) == ("same_after_alignment", {})
    assert '<td class="reason">Same picture after alignment.</td>' in html
    assert official.sha256 in html and response.context["statement"].facts["submitted"]["sha256"] in html
    # Kinds in words, never the code or a bare score.
    assert "(near" not in html and not re.search(r"\b0\.\d{2,}\b", re.sub(r'value="[^"]*"', "", html))


def test_a_rotated_copy_is_shown_turned_back_to_stand_as_the_authoritative_version(client, officer, official, original):
    response = _check(client, encode(original.rotate(90, expand=True), "PNG"), "turned.png")
    words = response.context["statement"].answers[0]
    assert "rotated" in words.verdict and "it is not the authoritative file itself" in words.verdict
    submitted, stored = _picture(words.submitted_picture), _picture(words.stored_picture)
    assert submitted.width > submitted.height and stored.width > stored.height  # the portrait copy turned back
    assert "shown turned" in words.alignment


def test_an_exact_copy_is_the_authoritative_file_itself(client, officer, official):
    with open(official.file.path, "rb") as handle:
        words = _check(client, handle.read()).context["statement"].answers[0]
    identifier = official.item.identifier
    assert words.verdict == f"This file is the authoritative version of {identifier} itself, byte for byte."


def test_the_differing_region_is_outlined_on_both_pictures():
    base = Image.new("RGB", (400, 300), (200, 200, 200))
    pair = picture_pair(
        submitted_preview=encode(base),
        stored_preview=encode(base),
        region=[0, 40, 0, 128],  # top band of a 256 x 192 rendition
        rendition_size=(256, 192),
    )
    for data in (pair.submitted, pair.stored):
        picture = Image.open(io.BytesIO(data)).convert("RGB")
        red = [
            (x, y)
            for x in range(picture.width)
            for y in range(0, picture.height, 3)
            if _near(picture.getpixel((x, y)), OUTLINE)
        ]
        assert red and max(y for _x, y in red) < picture.height * 0.3 and max(x for x, _y in red) < picture.width * 0.6
    assert pair.outlined


def _near(pixel, colour, tolerance=60) -> bool:
    return sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) < tolerance


def test_a_caption_laid_over_an_edge_is_outlined_on_the_page(client, officer, add_version):  # noqa: F811
    photo = make_photo(np.random.default_rng(11), (720, 540))
    add_version("registry/harbour.jpg", encode(photo, quality=92))
    captioned = photo.copy()
    draw = ImageDraw.Draw(captioned)
    draw.rectangle((0, 459, 432, 540), fill=(20, 20, 20))
    draw.text((8, 480), "Photo: Hong Kong Museum of History, 2024", fill=(255, 255, 255))
    words = _check(client, encode(captioned, quality=90)).context["statement"].answers[0]
    assert words.facts["region"], "verification found no region for a bar over a fifth of the frame"
    assert "outlined region differs" in words.alignment
    stored = _picture(words.stored_picture)
    assert any(_near(stored.getpixel((x, stored.height - 3)), OUTLINE) for x in range(stored.width // 2))


def test_the_pdf_statement_is_recorded_and_verify_statement_finds_it_or_refuses_a_changed_copy(
    client, officer, official, original, tmp_path, capsys
):
    html = _check(client, encode(original.resize((400, 300)), quality=80)).content.decode()
    before = AuditEvent.objects.count()
    response = client.post(reverse("verify-statement-pdf"), {"statement": _token(html)})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF") and b"UMingHK" in pdf and b"FontFile2" in pdf  # the CJK font, embedded
    event = AuditEvent.objects.get(action="statement.issue")
    assert AuditEvent.objects.count() == before + 1 and event.actor == officer
    assert event.after["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert event.after["items"] == [official.item.identifier] and event.target_id == str(official.item_id)
    assert audit_chain_verify().intact

    path = tmp_path / "statement.pdf"
    path.write_bytes(pdf)
    call_command("verify_statement", str(path))
    assert f"audit event {event.pk}" in capsys.readouterr().out

    changed = bytearray(pdf)
    changed[len(changed) // 2] ^= 0x01
    path.write_bytes(bytes(changed))
    with pytest.raises(CommandError, match="NOT FOUND"):
        call_command("verify_statement", str(path))


def test_an_altered_statement_token_issues_nothing(client, officer, official, original):
    html = _check(client, encode(original.resize((400, 300)), quality=80)).content.decode()
    token = _token(html)
    response = client.post(reverse("verify-statement-pdf"), {"statement": token[:-3] + "abc"}, follow=True)
    assert "check the copy again" in response.content.decode()
    assert not AuditEvent.objects.filter(action="statement.issue").exists()


def test_the_statement_is_worded_in_chinese_for_a_chinese_reader(client, officer, official, original):
    call_command("compilemessages", locale=["zh_Hant"], ignore_patterns=[".venv", "var"], verbosity=0)
    with translation.override("zh-hant"):
        response = client.post(
            reverse("verify"),
            {"file": SimpleUploadedFile("found.jpg", encode(original.resize((400, 300)), quality=80))},
            headers={"accept-language": "zh-hant"},
        )
    words = response.context["statement"].answers[0]
    assert re.search(r"[\u4e00-\u9fff]", words.verdict) and "copy" not in words.verdict
    assert re.search(r"[\u4e00-\u9fff]", words.matches[0]["kind_words"])
    assert words.matches[0]["reason_words"] == "對齊後是同一張圖片。"


def test_the_api_answers_in_words_and_issues_the_pdf_on_request(client, officer, official, original):
    data = encode(original.resize((400, 300)), quality=80)
    answer = client.post(reverse("api-verify"), {"file": SimpleUploadedFile("f.jpg", data)}).json()
    (item,) = answer["items"]
    assert item["statement"].startswith("This file is a resized copy of the authoritative version")
    assert item["kind_label"].startswith("Near duplicate") and item["authority"]["how"] == "uploaded"
    (match,) = item["matched_versions"]
    assert (match["reason"], match["reason_params"]) == ("same_after_alignment", {})
    assert match["reason_text"] == "Same picture after alignment."
    assert answer["chain_head"] == AuditEvent.objects.order_by("-pk").first().entry_hash
    assert not AuditEvent.objects.filter(action="statement.issue").exists()
    pdf = client.post(reverse("api-verify") + "?statement=pdf", {"file": SimpleUploadedFile("f.jpg", data)})
    assert pdf["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.get(action="statement.issue").after["sha256"] == hashlib.sha256(pdf.content).hexdigest()


def test_a_user_without_the_verify_permission_cannot_issue_a_statement(client, make_user):
    client.force_login(make_user("nobody"))
    assert client.post(reverse("verify-statement-pdf"), {"statement": "x"}).status_code == 403


def test_the_statement_writes_its_times_as_every_other_page_does(client, officer, official, original, settings):
    """The site's short format and zone, named: the item page and the statement give one moment the same way."""
    settings.TIME_ZONE = "Asia/Hong_Kong"
    moment = "2026-03-05T02:30:00+00:00"  # 10:30 in Hong Kong
    Version.objects.filter(pk=official.pk).update(uploaded_at=moment)  # shown on the item page
    response = _check(client, encode(original.resize((400, 300)), quality=80))
    facts = response.context["statement"].facts
    facts = {**facts, "checked_at": moment}
    facts["answers"][0]["decision"]["at"] = moment  # the authority on record
    with translation.override("en"):
        words = statement.statement_words(facts)
        item_page = client.get(official.item.get_absolute_url()).content.decode()
    assert words.checked_at == "05/03/2026 10:30 (Hong Kong time)"
    assert "on 05/03/2026 10:30 (Hong Kong time)" in words.answers[0].decision
    assert "05/03/2026 10:30 (Hong Kong time)" in item_page
    call_command("compilemessages", locale=["zh_Hant"], ignore_patterns=[".venv", "var"], verbosity=0)
    with translation.override("zh-hant"):
        chinese = statement.statement_words(facts).checked_at
        chinese_page = client.get(official.item.get_absolute_url(), headers={"accept-language": "zh-hant"})
    assert chinese == "2026年3月5日 10:30（香港時間）" and chinese in chinese_page.content.decode()
