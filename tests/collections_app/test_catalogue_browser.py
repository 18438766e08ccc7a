"""In headless Chromium: a viewer finds items in the catalogue, and the Chinese interface holds no English."""

import re

import pytest
from django.core.management import call_command

from collections_app.models import Item
from collections_app.services import batch_create
from tests.conftest import act_and_wait_for_new_page, browser_sign_in, needs_chromium, save_screenshot, store_file
from tests.images import encode, scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

ITEMS = [
    ("HKM-2026-0001", "Star Ferry pier, Central", "中環天星碼頭"),
    ("HKM-2026-0002", "Kowloon public pier", "九龍公眾碼頭"),
    ("HKM-2026-0003", "Typhoon shelter, Causeway Bay", "銅鑼灣避風塘"),
    ("PRO-1962-0457", "Tram depot, Whitty Street", "屈地街電車廠"),
    ("PRO-1962-0458", "Queen's Pier opening", "皇后碼頭開幕"),
    ("LIB-1950-0003", "Street map of Kowloon", "九龍街道圖"),
]


@pytest.fixture
def catalogue(db):
    """Six items, each with one photograph, processed on commit (tasks run eagerly), so each shows a thumbnail."""
    for n, (identifier, title, title_zh) in enumerate(ITEMS):
        version = store_file(f"negatives/{identifier}.jpg", encode(scene(80 + n), quality=85))
        Item.objects.filter(pk=version.item_id).update(identifier=identifier, title=title, title_zh=title_zh)


def _search(driver, text: str) -> list[str]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.NAME, "q")
    box.clear()
    act_and_wait_for_new_page(driver, lambda: box.send_keys(text, Keys.ENTER))
    assert driver.find_element(By.NAME, "q").get_attribute("value") == text
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#results .identifier")]


def test_a_viewer_finds_items_by_part_of_a_chinese_title_and_part_of_an_identifier(
    browser, live_server, role_user, catalogue
):
    from selenium.webdriver.common.by import By

    role_user("viewer", "reader")
    browser_sign_in(browser, live_server.url, "reader")
    act_and_wait_for_new_page(browser, browser.find_element(By.LINK_TEXT, "Catalogue").click)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#results .result")) == len(ITEMS)

    assert sorted(_search(browser, "碼頭")) == ["HKM-2026-0001", "HKM-2026-0002", "PRO-1962-0458"]
    thumbs = browser.find_elements(By.CSS_SELECTOR, "#results .result img")
    assert len(thumbs) == 3 and all(browser.execute_script("return arguments[0].naturalWidth", t) for t in thumbs)
    assert "1 version" in browser.find_element(By.ID, "results").text
    save_screenshot(browser, "search.png")

    assert _search(browser, "1962-045") == ["PRO-1962-0458", "PRO-1962-0457"]
    assert _search(browser, "50-00") == ["LIB-1950-0003"]
    act_and_wait_for_new_page(browser, browser.find_element(By.LINK_TEXT, "LIB-1950-0003").click)
    assert "九龍街道圖" in browser.find_element(By.TAG_NAME, "main").text


# What may stay in Latin letters on a Chinese page: names the user gave (the account, identifiers, file names),
# the other language's own name in the switcher, and names of formats and standards.
NOT_ENGLISH = {
    # The sidecar CSV's column names, which the upload page lists as they must be typed.
    *("filename", "identifier", "title", "title_zh", "creator", "date", "description", "subject", "rights"),
    "English",
    "JPEG",
    "PNG",
    "TIFF",
    "WebP",
    "GIF",
    "BMP",
    "ZIP",
    "CSV",
    "SHA",
    "MB",
    "KB",
    "GB",
    "bytes",
    "HTML",  # named in the reason a text file is refused
    "SVG",
}


def _english_words(driver, allowed: set[str]) -> list[str]:
    text = driver.execute_script("return document.body.innerText")
    for name in sorted(allowed, key=len, reverse=True):
        text = text.replace(name, " ")
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_'’-]+", text) if w not in NOT_ENGLISH]


def _drop_on_upload_page(driver, paths) -> None:
    """Files handed to the upload page's drop zone as a drop from the desktop would hand them."""
    from selenium.webdriver.common.by import By

    driver.execute_script(
        "const input = document.createElement('input');"
        "Object.assign(input, {type: 'file', multiple: true, id: 'test-files'});"
        "input.style.display = 'none'; document.body.appendChild(input);"
    )
    driver.find_element(By.ID, "test-files").send_keys("\n".join(str(p) for p in paths))
    driver.execute_script(
        "const data = new DataTransfer();"
        "for (const file of document.getElementById('test-files').files) data.items.add(file);"
        "const zone = document.getElementById('drop-zone');"
        "for (const type of ['dragenter', 'dragover', 'drop'])"
        "  zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));"
    )


def test_the_chinese_interface_shows_no_english_on_the_upload_batch_and_error_pages(
    browser, live_server, role_user, settings, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    settings.ROOT_URLCONF = "tests.server_error_urls"  # the site's routes and one that fails

    call_command("compilemessages", locale=["zh_Hant"], verbosity=0, ignore_patterns=[".venv", "var", "tests"])
    uploader = role_user("uploader", "librarian")
    batch = batch_create(source=store_file("a/seed.jpg", encode(scene(90))).source, created_by=uploader)
    good = store_file("event/gala.jpg", encode(scene(91), quality=85), batch=batch, uploader=uploader)
    broken = store_file("event/broken.jpg", encode(scene(92), quality=85)[:3000], batch=batch, uploader=uploader)
    allowed = {
        "librarian",
        "gala.jpg",
        "broken.jpg",
        "gala",  # the titles the items took from their file names: data, not the interface's words
        "broken",
        "event/",
        "Photo Unit",
        good.item.identifier,
        broken.item.identifier,
    }

    browser_sign_in(browser, live_server.url, "librarian")
    chinese = browser.find_element(By.CSS_SELECTOR, 'button[name="language"][value="zh-hant"]')
    act_and_wait_for_new_page(browser, chinese.click)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hant"
    pages = {
        "upload": "/upload/",
        "batch": f"/batches/{batch.pk}/",
        "not found": "/no-such-page/",
        "not allowed": "/review/",  # an uploader has no review role
    }
    english, headings = {}, {}
    for name, path in pages.items():
        browser.get(live_server.url + path)
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hant"
        english[name] = _english_words(browser, allowed)
        headings[name] = browser.find_element(By.TAG_NAME, "h1").text
    browser.get(live_server.url + "/test-server-error/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hant"
    english["server error"] = _english_words(browser, allowed)
    headings["server error"] = browser.find_element(By.TAG_NAME, "h1").text
    # The time to tell an administrator, as every other page writes a time: the site's zone, named.
    told = browser.find_element(By.TAG_NAME, "main").text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d（香港時間）", told), told

    # What the upload page writes as files go up: one already in the collection, one that is not a picture.
    (tmp_path / "gala-copy.jpg").write_bytes(encode(scene(91), quality=85))
    (tmp_path / "notes.txt").write_bytes(b"not a picture at all\n" * 20)
    browser.get(live_server.url + "/upload/")
    Select(browser.find_element(By.NAME, "source")).select_by_visible_text("Photo Unit")
    _drop_on_upload_page(browser, [tmp_path / "gala-copy.jpg", tmp_path / "notes.txt"])
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "upload-progress").get_attribute("data-finished") == "true"
    )
    assert good.item.identifier in browser.find_element(By.ID, "file-rows").text
    english["upload, after sending"] = _english_words(browser, allowed | {"gala-copy.jpg", "notes.txt", "gala-copy"})
    assert english == {**dict.fromkeys(pages, []), "server error": [], "upload, after sending": []}
    assert (headings["not found"], headings["not allowed"], headings["server error"]) == (
        "此網址沒有內容",
        "你不可開啟此頁",
        "系統出現錯誤",
    )
