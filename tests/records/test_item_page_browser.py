"""A records officer in headless Chromium reads an item page: beside each curated field, what each version's
file carried; the audit trail in words and Hong Kong time; and the Chinese page holds no English."""

import re

import pytest
from django.core.management import call_command
from PIL import Image

from collections_app.models import Item
from records import services as authority
from tests.conftest import act_and_wait_for_new_page, browser_sign_in, needs_chromium, save_screenshot, store_file
from tests.images import encode, scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

# EXIF tags (TIFF numbering) a scanner or camera writes.
DESCRIPTION, MAKE, MODEL, DATE_TIME, ARTIST, COPYRIGHT = 0x010E, 0x010F, 0x0110, 0x0132, 0x013B, 0x8298


def _photo(seed: int, **tags: str) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[globals()[tag]] = value
    return encode(scene(seed), quality=88, exif=exif.tobytes())


@pytest.fixture
def pier(role_user):
    """An item with a scan and a later camera copy, each carrying its own EXIF, one marked authoritative."""
    officer = role_user("records_officer", "officer")
    scan = store_file(
        "negatives/pier-1962.jpg",
        _photo(
            70,
            DESCRIPTION="Star Ferry pier at dusk",
            MAKE="Epson",
            MODEL="Expression 12000XL",
            DATE_TIME="1962:05:01 18:30:00",
            ARTIST="Information Services Department",
        ),
        source="Photo Unit",
    )
    copy = store_file(
        "portal/pier.jpg",
        _photo(71, DESCRIPTION="Pier, Central", MODEL="Canon EOS R5", COPYRIGHT="Copyright Portal Ltd"),
        source="Events portal",
    )
    Item.objects.filter(pk=copy.item_id).update(merged_into=scan.item_id)
    copy.item_id = scan.item_id
    copy.save(update_fields=["item"])
    Item.objects.filter(pk=scan.item_id).update(
        identifier="HKM-2026-0001",
        title="Star Ferry pier",
        title_zh="天星碼頭",
        description="The Star Ferry pier in Central at dusk, 1962.",
        creator="Information Services Department",
        provenance={"description": {"user": "officer"}, "creator": {"version": scan.pk}},
        authoritative_version=None,
    )
    authority.item_mark_authoritative(
        item_id=scan.item_id, version_id=scan.pk, actor=officer, reason="The negative scan is the original"
    )
    return Item.objects.get(pk=scan.item_id), scan, copy


def _row(driver, label: str) -> str:
    from selenium.webdriver.common.by import By

    for row in driver.find_elements(By.CSS_SELECTOR, "table.curated tbody tr"):
        if row.find_element(By.TAG_NAME, "th").text == label:
            return row.text
    raise AssertionError(f"no curated row {label!r}")


def test_each_curated_field_shows_what_each_versions_file_carried_beside_it(browser, live_server, pier):
    from selenium.webdriver.common.by import By

    item, scan, copy = pier
    browser_sign_in(browser, live_server.url, "officer")
    browser.get(live_server.url + item.get_absolute_url())

    description = _row(browser, "Description")
    assert "The Star Ferry pier in Central at dusk, 1962." in description and "set by officer" in description
    assert f"Version {scan.pk}: Star Ferry pier at dusk" in description
    assert f"Version {copy.pk}: Pier, Central" in description
    creator = _row(browser, "Creator")
    assert f"from version {scan.pk}" in creator and f"Version {scan.pk}: Information Services Department" in creator
    assert str(copy.pk) not in creator.replace(f"from version {scan.pk}", "")  # the copy carried no creator
    assert f"Version {copy.pk}: Copyright Portal Ltd" in _row(browser, "Rights")

    trail = browser.find_element(By.CSS_SELECTOR, "table.audit").text
    assert f"Version {scan.pk} of HKM-2026-0001" in trail and "collections_app." not in trail
    assert "(Hong Kong time)" in trail and "The negative scan is the original" in trail
    browser.set_window_size(1400, 1800)
    save_screenshot(browser, "item.png")


def test_the_chinese_item_page_shows_no_english(browser, live_server, pier):
    from selenium.webdriver.common.by import By

    item, scan, copy = pier
    call_command("compilemessages", locale=["zh_Hant"], verbosity=0, ignore_patterns=[".venv", "var", "tests"])
    browser_sign_in(browser, live_server.url, "officer")
    browser.get(live_server.url + item.get_absolute_url())
    chinese = browser.find_element(By.CSS_SELECTOR, "button[name=language][value=zh-hant]")
    act_and_wait_for_new_page(browser, chinese.click)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hant"
    # Closed sections are still read: nothing on the page is exempt for being folded away.
    browser.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")

    # What was typed or imported is shown as it came: names, titles, file names, the embedded tags and values.
    data = [item.identifier, item.title, item.description, item.creator, "officer", "Photo Unit", "Events portal"]
    data += [scan.original_path, copy.original_path, "The negative scan is the original"]
    data += Item.objects.filter(merged_into=item).values_list("identifier", flat=True)
    for version in (scan, copy):
        embedded = version.imported_metadata.get()
        for section in ("exif", "iptc", "xmp"):
            data += [f"{k} {v}" for k, v in (embedded.data.get(section) or {}).items()]
        data += [str(v) for v in (embedded.data.get("summary") or {}).values()]
    allowed = {w for text in data for w in re.findall(r"[A-Za-z_]+", text)}
    allowed |= {"EXIF", "IPTC", "XMP", "JPEG", "SHA", "CSV", "JSON", "PREMIS", "XML", "IIIF", "English", "KB", "UTC"}
    text = browser.find_element(By.TAG_NAME, "body").text
    text = re.sub(r"\b[0-9a-f]{8,}…?", " ", text)  # SHA-256 digests and their first letters
    english = sorted({w for w in re.findall(r"[A-Za-z_]{2,}", text) if w not in allowed})
    assert english == [], (english, text)
    assert "權威版本" in text and "審計記錄" in text
    save_screenshot(browser, "item-zh.png")
