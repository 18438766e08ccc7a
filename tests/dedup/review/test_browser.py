"""A curator in headless Chromium: queue, cluster page, compare, keyboard merge with a field choice, undo, dismiss."""

import time

import pytest
from PIL import ImageOps

from collections_app.models import Item, Version
from dedup.models import Cluster, NotDuplicatePair
from tests.conftest import needs_chromium
from tests.conftest import save_screenshot as _screenshot
from tests.images import encode, scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def five_copies(add_version):
    picture = scene(91, (640, 480))
    titles = ["Harbour at dusk", "Star Ferry pier", "", "維港黃昏", "Harbour, 1962"]
    versions = [
        add_version("photo/harbour.jpg", encode(picture, quality=92)),
        add_version("archive/harbour.png", encode(picture.resize((480, 360)), "PNG"), source="Archive"),
        add_version("portal/small.jpg", encode(picture.resize((320, 240)), quality=75), source="Portal"),
        add_version("portal/rotated.jpg", encode(picture.rotate(180), quality=90), source="Portal"),
        add_version("scans/grey.jpg", encode(ImageOps.grayscale(picture), quality=90), source="Scans"),
    ]
    for version, title in zip(versions, titles, strict=True):
        Item.objects.filter(pk=version.item_id).update(title=title, creator="" if title else "Lee Wing")
    for n in (92, 93):  # a fuller queue for the screenshot
        other = scene(n, (480, 360))
        add_version(f"extra/{n}.jpg", encode(other, quality=90))
        add_version(f"extra/{n}.png", encode(other.resize((240, 180)), "PNG"), source="Archive")
    cluster = Cluster.objects.get(members__version=versions[0])
    assert cluster.members.count() == 5
    return cluster, versions


def _state():
    return (
        sorted(Item.objects.values_list("pk", "title", "creator", "subjects", "merged_into", "authoritative_version")),
        sorted(Version.objects.values_list("pk", "item", "duplicate_of")),
    )


def _key(driver, keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(keys).perform()


def _after(driver, keys: str):
    """Press keys and wait until the cluster panel has been replaced by the server's answer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.ID, "cluster-panel")
    _key(driver, keys)
    WebDriverWait(driver, 10).until(ec.staleness_of(old))
    return WebDriverWait(driver, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#cluster-panel[data-ready]"))
    )


def test_curator_resolves_a_five_version_cluster_from_the_keyboard_and_undoes_it(
    browser, live_server, make_user, five_copies
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    cluster, versions = five_copies
    make_user("curator", ["dedup.view_cluster", "dedup.change_cluster", "collections_app.view_version"])
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys("curator")
    browser.find_element(By.NAME, "password").send_keys("pw-for-tests-1", Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: "/accounts/login" not in d.current_url)

    browser.get(f"{live_server.url}/review/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr[data-href]")) == 3
    _screenshot(browser, "review-queue.png")
    _key(browser, Keys.ENTER)  # the surest cluster first: exact-ish pairs come before the 5-member one
    WebDriverWait(browser, 10).until(lambda d: "/review/clusters/" in d.current_url)
    browser.get(f"{live_server.url}/review/clusters/{cluster.pk}/")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cluster-panel[data-ready]"))
    _screenshot(browser, "cluster.png")

    _key(browser, "c")
    assert browser.find_element(By.ID, "compare").is_displayed()
    _screenshot(browser, "compare.png")
    _key(browser, Keys.ESCAPE)
    assert not browser.find_element(By.ID, "compare").is_displayed()

    before = _state()
    started = time.monotonic()
    _after(browser, "2")  # the PNG from the archive becomes authoritative
    _key(browser, "f")  # to the field choices; the arrow picks the next title on offer
    _key(browser, Keys.ARROW_RIGHT)
    chosen_title = browser.execute_script(
        "return document.activeElement.closest('label').querySelector('.value').textContent.trim()"
    )
    panel = _after(browser, "m")
    elapsed = time.monotonic() - started
    print(f"keyboard resolution of a 5-member cluster: {elapsed:.2f} s")
    assert "Resolved" in panel.text
    assert elapsed < 10
    surviving = Item.objects.get(pk=versions[1].item_id)
    assert surviving.title == chosen_title and chosen_title != "Star Ferry pier"
    assert surviving.authoritative_version_id == versions[1].pk
    assert surviving.versions.count() == 5
    assert Cluster.objects.get(pk=cluster.pk).status == Cluster.Status.RESOLVED

    panel = _after(browser, "u")
    assert "Open" in panel.text
    assert _state() == before

    panel = _after(browser, "n")
    assert "Dismissed" in panel.text
    assert Cluster.objects.get(pk=cluster.pk).status == Cluster.Status.DISMISSED
    assert NotDuplicatePair.objects.count() == 10
    assert _state() == before
