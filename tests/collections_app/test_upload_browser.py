"""An uploader in headless Chromium drops files, watches them go up, and watches a real worker fill in the batch."""

import io
from datetime import datetime

import pytest
from django.utils import timezone

from collections_app.models import AuditEvent, IngestBatch, Source, Version
from collections_app.services import batch_create, version_ingest
from dedup.services import version_process
from tests.conftest import browser_sign_in, needs_chromium, save_screenshot, start_worker, stop_worker, wait_until
from tests.factories import SourceFactory
from tests.images import encode, scene

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True), needs_chromium]

RECORD_PROGRESS = """
const overall = document.getElementById("overall");
window.overallSeen = [];
new MutationObserver(() => window.overallSeen.push([Number(overall.value), Number(overall.max)]))
  .observe(overall, {attributes: true, attributeFilter: ["value"]});
"""

# A drag from the desktop cannot be scripted: a hidden file input supplies real File objects,
# and a synthetic drop event carries them to the drop zone as the browser's own drop would.
DROP = """
const input = document.getElementById("test-files");
const data = new DataTransfer();
for (const file of input.files) data.items.add(file);
const zone = document.getElementById("drop-zone");
for (const type of ["dragenter", "dragover", "drop"]) {
  zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
}
"""


def _drop(driver, paths) -> None:
    from selenium.webdriver.common.by import By

    driver.execute_script(
        "const input = document.createElement('input');"
        "Object.assign(input, {type: 'file', multiple: true, id: 'test-files'});"
        "input.style.display = 'none'; document.body.appendChild(input);"
    )
    driver.find_element(By.ID, "test-files").send_keys("\n".join(str(p) for p in paths))
    driver.execute_script(DROP)


def _rows(driver, selector: str, name_column: int) -> dict[str, object]:
    """Table rows by the file name in one column."""
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, selector)
    return {row.find_elements(By.TAG_NAME, "td")[name_column].text: row for row in rows}


@pytest.fixture
def earlier_copy(role_user):
    """A photograph the archivist stored in 2024, already processed."""
    archivist = role_user("uploader", "archivist")
    data = encode(scene(61), quality=90)
    batch = batch_create(source=SourceFactory(name="Photo Unit"), created_by=archivist)
    outcome = version_ingest(
        fileobj=io.BytesIO(data),
        original_filename="harbour.jpg",
        original_path="negatives/harbour.jpg",
        source=batch.source,
        uploader=archivist,
        batch=batch,
    )
    version_process(version_id=outcome.version.pk)
    Version.objects.filter(pk=outcome.version.pk).update(uploaded_at=timezone.make_aware(datetime(2024, 3, 5, 10)))
    return outcome.version, data


def test_uploader_drops_files_and_watches_the_batch_fill_in_then_retries_the_failed_one(
    browser, live_server, live_broker, role_user, earlier_copy, tmp_path
):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    # The batch page replaces its rows and counts as it polls: an element read mid-replacement is stale, read again.
    replaced = (StaleElementReferenceException,)

    earlier, earlier_bytes = earlier_copy
    SourceFactory(name="Events portal", kind=Source.Kind.PORTAL)
    files = {
        "01-harbour-copy.jpg": earlier_bytes,
        "02-gala.jpg": encode(scene(62), quality=90),
        "03-dinner.png": encode(scene(63, (1600, 1200)), "PNG"),  # large enough to show progress
        "04-speech.jpg": encode(scene(64), quality=90),
        "05-broken.jpg": encode(scene(65), quality=90)[:3000],  # a valid header, then nothing
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    role_user("uploader", "librarian")
    browser_sign_in(browser, live_server.url, "librarian")

    browser.get(f"{live_server.url}/upload/")
    Select(browser.find_element(By.NAME, "source")).select_by_visible_text("Events portal")
    browser.execute_script(RECORD_PROGRESS)
    _drop(browser, [tmp_path / name for name in files])
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "upload-progress").get_attribute("data-finished") == "true"
    )
    sent = _rows(browser, "#file-rows tr", 0)
    assert list(sent) == list(files)
    for row in sent.values():
        bar = row.find_element(By.TAG_NAME, "progress")
        assert bar.get_attribute("value") == bar.get_attribute("max")
    assert {name: row.get_attribute("data-result") for name, row in sent.items()} == dict.fromkeys(files, "created")
    duplicate = sent["01-harbour-copy.jpg"].text
    assert "Already in the collection:" in duplicate and earlier.item.identifier in duplicate
    # In the site's time zone and format, as the batch page writes it, not the browser's.
    assert "uploaded by archivist on 05/03/2024 10:00 (Hong Kong time)" in duplicate
    seen = browser.execute_script("return window.overallSeen")
    assert seen[-1][0] == seen[-1][1] and any(0 < value < top for value, top in seen), seen
    assert "5 of 5 files sent" in browser.find_element(By.ID, "overall-text").text
    save_screenshot(browser, "upload.png")

    batch = IngestBatch.objects.get(source__name="Events portal")
    assert batch.versions.count() == 5  # each file was its own request, committed on arrival
    browser.find_element(By.CSS_SELECTOR, "#batch-link a").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith(f"/batches/{batch.pk}/"))
    live = browser.find_element(By.ID, "batch-live")
    assert live.get_attribute("data-waiting") == "5"  # nothing is processed until the worker starts
    browser.execute_script("window.samePage = true")

    worker = start_worker("--pool=solo", "-n", "upload@%h")
    try:
        WebDriverWait(browser, 120, ignored_exceptions=replaced).until(
            lambda d: d.find_element(By.ID, "batch-live").get_attribute("data-waiting") == "0"
        )
        assert browser.execute_script("return window.samePage") is True  # filled in by polling, not reloading
        rows = _rows(browser, "#batch-files tbody tr", 1)
        statuses = {path: row.get_attribute("data-status") for path, row in rows.items()}
        assert statuses == {**dict.fromkeys(files, "done"), "05-broken.jpg": "failed"}
        assert "truncated or corrupt" in rows["05-broken.jpg"].text
        copy = rows["01-harbour-copy.jpg"]
        assert "Already in the collection" in copy.text
        assert "uploaded by archivist on 05/03/2024 10:00 (Hong Kong time) from Photo Unit" in copy.text
        link = copy.find_element(By.LINK_TEXT, earlier.item.identifier)
        assert link.get_attribute("href").endswith(earlier.item.get_absolute_url())
        assert "From Events portal: 5 files, 4 processed, 1 failed, 0 waiting." in browser.page_source
        save_screenshot(browser, "batch.png")

        broken = Version.objects.get(batch=batch, original_filename="05-broken.jpg")
        first_try = broken.processed_at
        rows["05-broken.jpg"].find_element(By.CSS_SELECTOR, "form.retry button").click()
        WebDriverWait(browser, 10).until(lambda d: "queued for processing again" in d.page_source)
        event = AuditEvent.objects.get(action="version.retry")
        assert (event.actor_label, event.target_id) == ("librarian", str(broken.pk))
        wait_until(lambda: Version.objects.filter(pk=broken.pk, status="failed", processed_at__gt=first_try).exists())
        WebDriverWait(browser, 30, ignored_exceptions=replaced).until(
            lambda d: _rows(d, "#batch-files tbody tr", 1)["05-broken.jpg"].get_attribute("data-status") == "failed"
        )
    finally:
        stop_worker(worker)

    # The page opened again for this batch (as after a reload) sends nothing the batch already holds.
    browser.get(f"{live_server.url}/upload/?batch={batch.pk}")
    _drop(browser, [tmp_path / name for name in files])
    WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.ID, "upload-progress").get_attribute("data-finished") == "true"
    )
    again = _rows(browser, "#file-rows tr", 0)
    assert {row.get_attribute("data-result") for row in again.values()} == {"received"}
    assert batch.versions.count() == 5
