"""A records officer in headless Chromium checks a found copy, downloads the statement, and the statement is
checked against the audit trail; the Chinese verify page shows no English."""

import io
import re
import time

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import ImageDraw

from collections_app.models import Item
from collections_app.services import batch_create, version_ingest
from records import services as authority
from tests.conftest import act_and_wait_for_new_page, browser_sign_in, needs_chromium, save_screenshot, wait_until
from tests.factories import SourceFactory
from tests.images import encode
from tests.pictures import make_photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]
# Words the Chinese page may show as they are: names of formats and digests, the command line, the language switcher.
NOT_PROSE = {"JPEG", "PNG", "SHA", "PDF", "KB", "MB", "English", "python", "manage", "py", "verify_statement", "FILE"}


@pytest.fixture
def registry_scan(role_user):
    """The registry's scan of a lease plan, stored by an archivist and marked authoritative by a records officer."""
    archivist, officer = role_user("uploader", "archivist"), role_user("records_officer", "officer")
    picture = make_photo(np.random.default_rng(11), (720, 540))
    batch = batch_create(source=SourceFactory(name="Lands Registry"), created_by=archivist)
    version = version_ingest(
        fileobj=io.BytesIO(encode(picture, quality=92)),
        original_filename="lease-plan-1962.jpg",
        original_path="registry/lease-plan-1962.jpg",
        source=batch.source,
        uploader=archivist,
        batch=batch,
    ).version
    Item.objects.filter(pk=version.item_id).update(
        identifier="HKM-2026-0001",
        title="Lease plan, Kowloon Inland Lot 1962",
        title_zh="九龍內地段租契圖則",
        authoritative_version=None,
    )
    authority.item_mark_authoritative(
        item_id=version.item_id, version_id=version.pk, actor=officer, reason="Signed original scan from the registry"
    )
    return version, picture


def _found_copy(picture, tmp_path):
    """A smaller copy found on a website, with a credit bar laid over its foot."""
    copy = picture.resize((480, 360))
    draw = ImageDraw.Draw(copy)
    draw.rectangle((0, 306, 288, 360), fill=(20, 20, 20))
    draw.text((8, 322), "Photo courtesy of a property website", fill=(255, 255, 255))
    path = tmp_path / "found-on-web.jpg"
    path.write_bytes(encode(copy, quality=85))
    return path


def _check(driver, base_url: str, path) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base_url}/verify/")
    driver.find_element(By.NAME, "file").send_keys(str(path))
    driver.find_element(By.CSS_SELECTOR, "form[enctype] button[type=submit]").click()
    wait_until(lambda: driver.find_elements(By.ID, "statement"), timeout=30)


def _downloaded(folder) -> bytes:
    def done():
        files = [p for p in folder.iterdir() if p.suffix == ".pdf"]
        return files[0] if files and not any(p.suffix == ".crdownload" for p in folder.iterdir()) else None

    path = wait_until(done, timeout=30)
    time.sleep(0.2)  # the last write and rename
    return path.read_bytes()


def test_a_records_officer_checks_a_found_copy_and_the_statement_is_verified_later(
    browser, live_server, registry_scan, tmp_path, capsys
):
    from selenium.webdriver.common.by import By

    version, picture = registry_scan
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    browser_sign_in(browser, live_server.url, "officer")
    _check(browser, live_server.url, _found_copy(picture, tmp_path))

    verdict = browser.find_element(By.CSS_SELECTOR, ".verdict-words").text
    assert verdict.startswith("This file is a resized copy of the authoritative version of HKM-2026-0001")
    assert verdict.endswith("it is not the authoritative file itself.")
    page = browser.find_element(By.ID, "statement").text
    assert "Chosen as authoritative by officer on " in page
    assert "Reason on record: “Signed original scan from the registry”" in page
    assert version.sha256 in page and "Near duplicate (resized, recompressed, cropped or edited)" in page
    assert len(browser.find_elements(By.CSS_SELECTOR, ".side-by-side img")) == 2
    browser.set_window_size(1400, 2300)
    save_screenshot(browser, "verify-statement.png")
    browser.set_window_size(1400, 1200)

    browser.find_element(By.ID, "download-statement").click()
    pdf = _downloaded(downloads)
    assert pdf.startswith(b"%PDF")
    statement = tmp_path / "statement.pdf"
    statement.write_bytes(pdf)
    call_command("verify_statement", str(statement))
    assert "VERIFIED" in capsys.readouterr().out

    changed = bytearray(pdf)
    changed[len(changed) // 3] ^= 0x20
    statement.write_bytes(bytes(changed))
    with pytest.raises(CommandError, match="NOT FOUND"):
        call_command("verify_statement", str(statement))


def test_the_chinese_verify_page_shows_no_english(browser, live_server, registry_scan, tmp_path):
    from selenium.webdriver.common.by import By

    version, picture = registry_scan
    browser_sign_in(browser, live_server.url, "officer")
    browser.get(f"{live_server.url}/verify/")
    chinese = browser.find_element(By.CSS_SELECTOR, "button[name=language][value=zh-hant]")
    act_and_wait_for_new_page(browser, chinese.click)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hant"
    _check(browser, live_server.url, _found_copy(picture, tmp_path))

    item = version.item.__class__.objects.get(pk=version.item_id)
    # What people typed is shown as they typed it: names, titles, the reason on record.
    data = {item.identifier, item.title, version.original_filename, version.source.name, "officer", "archivist"}
    data.add("Signed original scan from the registry")
    allowed = NOT_PROSE | {w for text in data for w in re.findall(r"[A-Za-z_]+", text)}
    text = browser.find_element(By.TAG_NAME, "body").text
    text = re.sub(r"\b[0-9a-f]{64}\b", " ", text)  # SHA-256 digests
    english = sorted({w for w in re.findall(r"[A-Za-z_]{2,}", text) if w not in allowed})
    assert english == [], text
    assert "權威版本" in text and "核實聲明" in text
    save_screenshot(browser, "verify-statement-zh.png")
