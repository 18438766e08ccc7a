"""Bilingual interface: every string translated into Traditional Chinese, pages rendered in the reader's language."""

import ast
import html
import io
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from collections_app.failures import Refusal, SidecarProblem, failure_text, skipped_reason
from collections_app.models import IngestBatch, SidecarRow
from collections_app.sidecar import batch_sidecar_attach
from collections_app.templatetags.audit_labels import ACTION_LABELS
from dedup.imaging.errors import Failure, FingerprintError
from dedup.imaging.fingerprint import fingerprint_file
from tests.factories import IngestBatchFactory, ItemFactory
from tests.images import encode, scene

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
# What makemessages reads: the project's own code and templates, not the virtualenv, data or tools.
SOURCE_IGNORE = (".venv", ".git", ".hypothesis", "var", "bench", "tests", "docs", "__pycache__", ".*_cache", "*.mo")
# Words a template may show as they are: formats, digest names and key names.
UNTRANSLATED_OK = {"CSV", "JSON", "XML", "SHA-256", "Enter", "Esc"}
HUMAN_ATTRIBUTES = re.compile(r'\b(title|alt|aria-label|placeholder|data-label)="([^"]*)"')


def po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: msgid, msgstr (a list, one per plural form) and flags; the header left out."""
    entries: list[dict] = []
    entry: dict | None = None
    field = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("#~") or (line.startswith("#") and not line.startswith("#,")):
            continue  # obsolete entries and comments
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry = None
            continue
        entry = entry or {"flags": set(), "msgstr": []}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith('"'):
            if field == "msgstr":
                entry["msgstr"][-1] += ast.literal_eval(line)
            else:
                entry[field] += ast.literal_eval(line)
        else:
            keyword, literal = line.split(" ", 1)
            field = "msgstr" if keyword.startswith("msgstr") else keyword
            if field == "msgstr":
                entry["msgstr"].append(ast.literal_eval(literal))
            else:
                entry[field] = ast.literal_eval(literal)
    return [e for e in entries if e["msgid"]]


@pytest.fixture(scope="module")
def fresh_po(tmp_path_factory) -> Path:
    """makemessages run over a copy of the project, merged with the committed catalogue."""
    copy = tmp_path_factory.mktemp("project") / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*SOURCE_IGNORE))
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(copy)
            call_command(
                "makemessages", locale=["zh_Hant"], ignore_patterns=list(SOURCE_IGNORE), no_obsolete=True, verbosity=0
            )
    return copy / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def compiled_catalogue():
    """The compiled catalogue, as scripts/test.sh builds it (compiled here too when pytest runs on its own)."""
    call_command("compilemessages", locale=["zh_Hant"], ignore_patterns=list(SOURCE_IGNORE), verbosity=0)


@pytest.fixture
def catalogue(compiled_catalogue, settings):
    # Re-setting LOCALE_PATHS empties Django's translation cache, so a freshly compiled catalogue is read.
    settings.LOCALE_PATHS = list(settings.LOCALE_PATHS)


@pytest.fixture
def chinese(catalogue):
    with translation.override("zh-hant"):
        yield


def test_every_string_in_the_code_and_templates_has_a_chinese_translation(fresh_po):
    entries = po_entries(fresh_po)
    assert len(entries) > 400
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [], "Translate these in locale/zh_Hant/LC_MESSAGES/django.po"
    assert fuzzy == [], "Check and un-fuzzy these in locale/zh_Hant/LC_MESSAGES/django.po"


def test_the_committed_catalogue_has_no_fuzzy_or_empty_entries():
    entries = po_entries(PO)
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"] or not all(e["msgstr"])] == []


def test_no_template_shows_text_outside_the_translation_tags():
    bare = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", text, flags=re.S)
        text = re.sub(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", " ", text, flags=re.S)
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
        for name, value in HUMAN_ATTRIBUTES.findall(text):
            words = re.sub(r"{[{%].*?[%}]}", " ", value).split()
            bare += [f"{path.name}: {name}={word}" for word in words if _is_prose(word)]
        text = html.unescape(re.sub(r"<[^>]*>", " ", re.sub(r"{{.*?}}|{%.*?%}", " ", text, flags=re.S)))
        bare += [f"{path.name}: {word}" for word in text.split() if _is_prose(word)]
    assert bare == []


def _is_prose(word: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2,}", word)) and word.strip(".,:;()") not in UNTRANSLATED_OK


@pytest.mark.django_db
def test_the_home_page_and_review_queue_are_in_chinese_for_a_chinese_reader(client, make_user, chinese):
    client.force_login(make_user("curator", ["dedup.view_cluster", "dedup.change_cluster"]))
    home = client.get(reverse("home"), headers={"accept-language": "zh-hant"}).content.decode()
    assert '<html lang="zh-hant">' in home
    assert "概覽" in home and "最近的批次" in home and "登出" in home
    assert "Recent batches" not in home
    queue = client.get(reverse("review-queue"), headers={"accept-language": "zh-hant"}).content.decode()
    assert "審核隊列" in queue and "鍵盤快捷鍵" in queue and "篩選" in queue
    assert "Review queue" not in queue


@pytest.mark.django_db
def test_the_language_switcher_changes_the_language_of_later_pages(client, make_user, catalogue):
    client.force_login(make_user("curator", ["dedup.view_cluster"]))
    page = client.get(reverse("review-queue")).content.decode()
    assert f'action="{reverse("set_language")}" method="post"' in page
    assert 'name="language" value="zh-hant"' in page and "繁體中文" in page and "Review queue" in page

    response = client.post(reverse("set_language"), {"language": "zh-hant", "next": reverse("review-queue")})
    assert response.status_code == 302 and response.url == reverse("review-queue")
    assert "審核隊列" in client.get(response.url).content.decode()

    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Review queue" in client.get(reverse("review-queue")).content.decode()


@pytest.mark.django_db
def test_figures_and_dates_follow_the_readers_language(client, make_user, catalogue):
    client.force_login(make_user())
    IngestBatchFactory(created_at=timezone.make_aware(datetime(2024, 3, 5, 14, 30)))
    english = client.get(reverse("home")).content.decode()
    assert "05/03/2024 14:30" in english
    client.post(reverse("set_language"), {"language": "zh-hant", "next": "/"})
    assert "2024年3月5日 14:30" in client.get(reverse("home")).content.decode()
    with translation.override("zh-hant"):
        assert intcomma(1234567) == "1,234,567"


@pytest.mark.django_db
def test_an_item_shows_its_english_and_chinese_titles_side_by_side(client, make_user, chinese):
    client.force_login(make_user("viewer", ["collections_app.view_item", "collections_app.view_version"]))
    item = ItemFactory(title="Harbour at dusk", title_zh="維港黃昏")
    page = client.get(item.get_absolute_url(), headers={"accept-language": "zh-hant"}).content.decode()
    assert '<span lang="en">Harbour at dusk</span> · <span lang="zh-Hant">維港黃昏</span>' in page


def _failure(data: bytes, **options) -> FingerprintError:
    with pytest.raises(FingerprintError) as caught:
        fingerprint_file(io.BytesIO(data), **options)
    return caught.value


JPEG = encode(scene(3, (64, 48)))
FAILURES = {
    "empty": lambda: _failure(b""),
    "pdf": lambda: _failure(b"%PDF-1.4\n" + bytes(200)),
    "html": lambda: _failure(b"<!doctype html><html><body>hello</body></html>"),
    "heic": lambda: _failure(b"\x00\x00\x00\x18ftypheic" + bytes(200)),
    "unknown": lambda: _failure(bytes(range(256)) * 4),
    "bad header": lambda: _failure(b"\xff\xd8\xff" + bytes(200)),
    "truncated": lambda: _failure(JPEG[: len(JPEG) // 2]),
    "too large": lambda: _failure(encode(Image.new("RGB", (200, 200)), "PNG"), max_pixels=1000),
}


@pytest.mark.parametrize("kind", FAILURES)
def test_every_reason_fingerprinting_fails_with_is_shown_in_chinese(kind, chinese):
    failure = FAILURES[kind]()
    with translation.override("en"):
        english = failure_text(failure.code, failure.params)
    shown = failure_text(failure.code, failure.params)
    assert shown != english and re.search(r"[\u4e00-\u9fff]", shown), english


SAMPLE_PARAMS = {
    **{"limit": 200, "pixels": "250", "format": "JPEG", "detail": "x", "version": 7, "text": "x"},
    **{"pages": 20, "page": 3},
    **{"length": 600, "name": "a.zip", "n": 3, "ratio": 900, "mb": 12, "line": 4},
    **{"reason": "Permission denied", "target": "/srv/elsewhere/a.jpg", "column": "title", "value": "HKM-1"},
    **{"names": "notes", "values": "x"},
}


@pytest.mark.parametrize("code", [*Failure, *Refusal, *SidecarProblem])
def test_every_failure_code_has_words_in_both_languages(code, chinese):
    with translation.override("en"):
        english = failure_text(code, SAMPLE_PARAMS)
    assert english != code and "%(" not in english
    if code != Failure.RECORDED:
        assert re.search(r"[\u4e00-\u9fff]", failure_text(code, SAMPLE_PARAMS)), english


@pytest.mark.parametrize(
    ("pillow", "plain"),
    [
        ("image file is truncated (3 bytes not processed)", "the file is truncated"),
        ("broken data stream when reading image file", "the picture data is damaged"),
        ("tile cannot extend outside image", "the picture data is shorter than the size its header states"),
        ("encoder jpeg2k not available", "the picture data could not be read"),
    ],
)
def test_pillows_own_words_for_a_damaged_file_are_shown_plainly_in_both_languages(pillow, plain, chinese):
    with translation.override("en"):
        english = failure_text(Failure.CORRUPT, {"detail": pillow})
    assert english == f"The image is truncated or corrupt: {plain}." and pillow not in english
    assert re.search(r"[\u4e00-\u9fff]", failure_text(Failure.CORRUPT, {"detail": pillow}))
    assert not re.search(r"[A-Za-z]{3,}", failure_text(Failure.CORRUPT, {"detail": pillow}))


@pytest.mark.parametrize("code", list(Refusal))
def test_every_refusal_stored_on_a_batch_is_shown_in_the_readers_language(code, chinese):
    row = {"path": "a.jpg", "code": code, "params": SAMPLE_PARAMS}
    with translation.override("en"):
        english = skipped_reason(row)
    assert re.search(r"[\u4e00-\u9fff]", skipped_reason(row)) and skipped_reason(row) != english


@pytest.mark.parametrize("code", list(SidecarProblem))
def test_every_problem_stored_on_a_sidecar_row_is_shown_in_the_readers_language(code, chinese):
    row = SidecarRow(problems=[{"code": code, "params": SAMPLE_PARAMS}])
    with translation.override("en"):
        english = row.problem_texts
    assert re.search(r"[\u4e00-\u9fff]", row.problem_texts[0]) and row.problem_texts != english


@pytest.mark.django_db
def test_the_batch_page_shows_sidecar_problems_and_folder_refusals_in_chinese(client, uploader, catalogue):
    batch = IngestBatchFactory(skipped=[{"path": "pipe.jpg", "code": Refusal.NAMED_PIPE, "params": {}}])
    batch_sidecar_attach(batch=batch, content=b"filename,title,notes\n,Gala,x\n")
    client.force_login(uploader)
    page = client.get(reverse("batch-detail", args=[batch.pk]), headers={"accept-language": "zh-hant"})
    text = page.content.decode()
    with translation.override("zh-hant"):
        expected = [failure_text(SidecarProblem.NO_FILENAME), failure_text(Refusal.NAMED_PIPE)]
    assert page.status_code == 200 and all(words in text for words in expected)
    assert "No filename" not in text and "named pipe" not in text and "Columns not used" not in text


@pytest.mark.parametrize("channel", list(IngestBatch.Channel))
def test_every_batch_channel_is_named_in_both_languages(channel, chinese):
    batch = IngestBatch(channel=channel)
    with translation.override("en"):
        english, label = str(batch), str(channel.label)
    assert english == label and re.search(r"[\u4e00-\u9fff]", str(batch))


def test_a_code_this_version_does_not_know_is_shown_as_stored_and_an_old_sentence_word_for_word(chinese):
    assert failure_text("something_new") == "something_new"
    assert failure_text(Failure.RECORDED, {"text": "Something new went wrong."}) == "Something new went wrong."


def test_every_audit_action_the_code_records_has_words_on_the_item_page():
    apps = ("collections_app", "dedup", "reports")
    code = "\n".join(path.read_text() for app in apps for path in (ROOT / app).rglob("*.py"))
    recorded = set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', code))
    assert recorded and recorded <= set(ACTION_LABELS)


def test_the_switcher_names_each_language_in_that_language():
    assert dict(settings.LANGUAGES) == {"en": "English", "zh-hant": "繁體中文"}
