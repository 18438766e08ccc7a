"""A curator in headless Chromium: curated values kept, keyboard review of 50 clusters, compare, density, bulk rules."""

import pytest
from PIL import ImageOps

from collections_app.models import AuditEvent, Item, Version
from dedup.models import BulkRule, BulkRun, Cluster
from tests.conftest import act_and_wait_for_new_page, browser_sign_in, needs_chromium, replaced
from tests.conftest import save_screenshot as _screenshot
from tests.images import encode, scene

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

PERMS = ["dedup.view_cluster", "dedup.change_cluster", "collections_app.view_version", "collections_app.view_item"]


@pytest.fixture
def five_copies(add_version):
    picture = scene(91, (640, 480))
    versions = [
        add_version("photo/harbour_dusk.jpg", encode(picture, quality=92)),
        add_version("archive/harbour.png", encode(picture.resize((480, 360)), "PNG"), source="Archive"),
        add_version("portal/small.jpg", encode(picture.resize((320, 240)), quality=75), source="Portal"),
        add_version("portal/rotated.jpg", encode(picture.rotate(90, expand=True), quality=90), source="Portal"),
        add_version("scans/grey.jpg", encode(ImageOps.grayscale(picture), quality=90), source="Scans"),
    ]
    cluster = Cluster.objects.get(members__version=versions[0])
    assert cluster.members.count() == 5
    return cluster, versions


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
    WebDriverWait(driver, 10).until(replaced(old))
    return WebDriverWait(driver, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#cluster-panel[data-ready]"))
    )


def _open(driver, url: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cluster-panel[data-ready]"))


def test_a_curated_title_survives_choosing_another_version_and_merging(browser, live_server, make_user, five_copies):
    cluster, versions = five_copies
    Item.objects.filter(pk=versions[0].item_id).update(
        title="Victoria Harbour at dusk", provenance={"title": {"user": "editor"}}
    )
    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    offered = browser.execute_script(
        "return Array.from(document.querySelectorAll('tr[data-field=title] .value')).map(e => e.textContent.trim())"
    )
    assert "harbour" not in offered and "small" not in offered  # file names are not titles
    _key(browser, "2")  # the archive's PNG becomes authoritative; its title is only its file name
    assert browser.execute_script("return document.querySelector('.member.chosen').dataset.n") == "2"
    _after(browser, "m")
    surviving = Item.objects.get(pk=versions[1].item_id)
    assert surviving.authoritative_version_id == versions[1].pk
    assert surviving.title == "Victoria Harbour at dusk"


def test_compare_aligns_the_rotated_copy_steps_with_brackets_and_outlines_differences(
    browser, live_server, make_user, five_copies
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cluster, versions = five_copies
    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    _key(browser, "1")
    _key(browser, "c")
    compare = browser.find_element(By.ID, "compare")
    assert compare.is_displayed()
    seen = {}
    for _step in range(4):
        names = compare.find_element(By.CSS_SELECTOR, ".names").text
        seen[names] = browser.execute_script("return document.querySelector('#compare .over').style.transform")
        _key(browser, "]")
    assert len(seen) == 4  # every other member in turn
    rotated = next(t for names, t in seen.items() if "4" in names.split(" | "))
    assert "rotate" in rotated or "matrix" in rotated  # drawn turned back, as verification aligned it
    while "4" not in compare.find_element(By.CSS_SELECTOR, ".names").text.split(" | "):
        _key(browser, "[")
    _key(browser, "+")
    layers = browser.execute_script("return document.querySelector('#compare .layers').style.transform")
    assert "scale(1.5)" in layers  # one transform for both copies: zoom stays in step
    _key(browser, "0")
    _key(browser, "d")
    assert "show-difference" in compare.get_attribute("class")
    assert "rotated" in compare.find_element(By.CSS_SELECTOR, ".aligned").text
    _screenshot(browser, "compare-rotated.png")
    _key(browser, Keys.ESCAPE)
    assert not compare.is_displayed()


@pytest.fixture
def cropped_copy(add_version):
    picture = scene(93, (640, 480))
    original = add_version("photo/pier.jpg", encode(picture, quality=92))
    # The middle 85% from (48, 36), resized to 3/4: lies over the original from 7.5% to 92.5% each way.
    crop = add_version("portal/pier_crop.jpg", encode(picture.crop((48, 36, 592, 444)).resize((408, 306))))
    cluster = Cluster.objects.get(members__version=original)
    assert set(cluster.members.values_list("version_id", flat=True)) == {original.pk, crop.pk}
    return cluster


def test_compare_lays_a_cropped_and_resized_copy_over_the_part_of_the_original_it_shows(
    browser, live_server, make_user, cropped_copy
):
    """The copy's CSS transform carries the fitted scale and shift: its corners land on the crop's corners."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cropped_copy.pk}/")
    _key(browser, "1")
    _key(browser, "c")
    compare = browser.find_element(By.ID, "compare")
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.querySelector('#compare .under').complete")
        and "matrix" in d.execute_script("return document.querySelector('#compare .over').style.transform")
    )
    # Where the copy's corners are drawn, as fractions of the original's picture on screen.
    corners = browser.execute_script(
        """
        const under = document.querySelector('#compare .under').getBoundingClientRect();
        const over = document.querySelector('#compare .over').getBoundingClientRect();
        return [(over.left - under.left) / under.width, (over.top - under.top) / under.height,
                (over.right - under.left) / under.width, (over.bottom - under.top) / under.height];
        """
    )
    assert corners == pytest.approx([0.075, 0.075, 0.925, 0.925], abs=0.015)
    assert "scaled and shifted" in compare.find_element(By.CSS_SELECTOR, ".aligned").text
    clip = browser.execute_script("return document.querySelector('#compare .over-clip').style.clipPath")
    assert clip == "inset(0px 0px 0px 50%)"  # the slider cuts upright at the divider, whatever the copy's transform
    _screenshot(browser, "compare.png")


def test_a_dismissed_cluster_shows_its_members_and_who_dismissed_it_and_undo_works(
    browser, live_server, make_user, five_copies
):
    from selenium.webdriver.common.by import By

    cluster, versions = five_copies
    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    browser.find_element(By.CSS_SELECTOR, "input.reason").send_keys("five different sittings")
    browser.find_element(By.TAG_NAME, "h1").click()
    panel = _after(browser, "n")
    assert "Dismissed" in panel.text and "Declared not duplicates by curator" in panel.text
    assert "five different sittings" in panel.text
    assert len(panel.find_elements(By.CSS_SELECTOR, ".member")) == 5
    _screenshot(browser, "dismissed.png")
    browser.get(f"{live_server.url}/review/?status=dismissed")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr .thumb-xs")) == 5
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    panel = _after(browser, "u")
    assert "Open" in panel.text and Cluster.objects.get(pk=cluster.pk).members.count() == 5


def test_history_marks_an_undone_merge_undone(browser, live_server, make_user, five_copies):
    from selenium.webdriver.common.by import By

    cluster, versions = five_copies
    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    _after(browser, "m")
    _after(browser, "u")
    _after(browser, "m")
    authoritative = Cluster.objects.get(pk=cluster.pk).members.first().version
    browser.get(f"{live_server.url}/items/{Version.objects.get(pk=authoritative.pk).item_id}/")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.undone")
    assert len(rows) == 1 and "undone by curator at" in rows[0].text


@pytest.fixture
def twelve_copies(add_version):
    picture = scene(95, (640, 480))
    versions = []
    for n in range(12):
        size = (640 - n * 30, 480 - n * 22)
        versions.append(
            add_version(f"copies/{n:02d}.jpg", encode(picture.resize(size), quality=95 - n * 3), source=f"S{n % 3}")
        )
    cluster = Cluster.objects.get(members__version=versions[0])
    assert cluster.members.count() == 12
    # Titles in both languages on some members: the tallest card sets the height of its row.
    Item.objects.filter(pk=versions[0].item_id).update(
        title="Victoria Harbour from the Peak at dusk, with the Star Ferry", title_zh="黃昏時分從山頂遠眺維多利亞港"
    )
    Item.objects.filter(pk=versions[7].item_id).update(title="Harbour, second print")
    return cluster, versions


# Every control of every member, hit where a click would land: the point must reach the control itself, not the
# sticky action bar or anything else laid over it, and lie inside the window without scrolling.
_UNCOVERED = """
const bar = document.querySelector('#review-form .actions').getBoundingClientRect();
const problems = [];
const describe = (element) => element ? element.outerHTML.slice(0, 60) : 'nothing (outside the window)';
document.querySelectorAll(arguments[0] || '#cluster-panel .member').forEach((member) => {
  const card = member.getBoundingClientRect();
  if (card.top < 0 || card.bottom > bar.top) problems.push(`member ${member.dataset.n}: ${card.bottom} > ${bar.top}`);
  member.querySelectorAll('input, button, a, select, label.pick').forEach((control) => {
    if (!control.getClientRects().length) return;  // not shown (the chosen member has no "keep separate")
    const r = control.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = x >= 0 && y >= 0 && x < innerWidth && y < innerHeight ? document.elementFromPoint(x, y) : null;
    // A click on the label around a checkbox or radio button reaches it too.
    const reached = hit && (control.contains(hit) || (hit.matches('label') && hit.contains(control)));
    if (!reached) problems.push(`member ${member.dataset.n}: ${describe(control)} covered by ${describe(hit)}`);
  });
});
return problems;
"""


def test_twelve_members_fit_a_1440_screen_with_every_control_uncovered_and_keyed(
    browser, live_server, make_user, twelve_copies
):
    """A 1440 x 900 window (757 px of page under Chromium's own bars): two rows of six, each card whole above the
    sticky action bar and each of its controls clickable without scrolling; thumbnails stay large enough to judge."""
    from selenium.webdriver.common.by import By

    cluster, versions = twelve_copies
    make_user("curator", PERMS)
    browser.set_window_size(1440, 900)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    viewport = browser.execute_script("return [innerWidth, innerHeight, scrollY]")
    tops = browser.execute_script(
        "return Array.from(document.querySelectorAll('.member')).map(m => Math.round(m.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 2, tops  # two rows of six
    assert browser.execute_script("return scrollY") == 0
    assert browser.execute_script(_UNCOVERED) == []
    thumbs = browser.execute_script(
        "return Array.from(document.querySelectorAll('.member .thumb')).map(t => t.getBoundingClientRect().height)"
    )
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('.member .facts dd'))"
        ".map(d => parseFloat(getComputedStyle(d).fontSize))"
    )
    print(f"\nviewport {viewport[0]} x {viewport[1]}; thumbnails {min(thumbs):.0f} px tall; facts {min(sizes):.1f} px")
    assert min(thumbs) >= 96 and min(sizes) >= 11
    _key(browser, "0")
    assert browser.execute_script("return document.querySelector('.member.chosen').dataset.n") == "10"
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(browser).key_down(Keys.SHIFT).send_keys("2").key_up(Keys.SHIFT).perform()
    assert browser.execute_script("return document.querySelector('.member.chosen').dataset.n") == "12"
    assert browser.find_element(By.ID, "member-picker").get_attribute("value") == str(versions[11].pk)
    assert browser.execute_script(_UNCOVERED) == []  # still so once another member is chosen
    _screenshot(browser, "cluster.png")
    language = browser.find_element(By.CSS_SELECTOR, "button[name=language][value=zh-hant]")
    act_and_wait_for_new_page(browser, language.click)
    assert "權威版本" in browser.find_element(By.ID, "cluster-panel").text
    assert browser.execute_script(_UNCOVERED) == []  # and in Chinese


def test_after_a_merge_the_twelve_members_open_with_its_message_and_undo_and_still_fit(
    browser, live_server, make_user, add_version, twelve_copies
):
    """The working state: a merge opens the next cluster with a message and the merge's undo in the bar."""
    from selenium.webdriver.common.by import By

    cluster, versions = twelve_copies
    data = encode(scene(96, (320, 240)), quality=90)
    first = add_version("exact/a.jpg", data)
    add_version("exact/b.jpg", data, source="Archive")
    exact = Cluster.objects.get(members__version=first)
    make_user("curator", PERMS)
    browser.set_window_size(1440, 900)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{exact.pk}/")
    panel = _after(browser, "m")
    assert panel.get_attribute("data-cluster") == str(cluster.pk)
    assert "Merged." in panel.find_element(By.CSS_SELECTOR, ".flash").text
    assert panel.find_element(By.CSS_SELECTOR, '.actions [data-key="u"]').is_displayed()
    assert browser.execute_script(_UNCOVERED) == []
    browser.get(f"{live_server.url}/review/clusters/{cluster.pk}/?after={exact.pk}")  # the same without script
    assert len(browser.find_elements(By.CSS_SELECTOR, "main .message")) == 0  # the merge's message was shown once
    assert browser.execute_script(_UNCOVERED) == []
    panel = _after(browser, "u")  # the merge before is one key away
    assert panel.get_attribute("data-cluster") == str(exact.pk)
    assert Cluster.objects.get(pk=exact.pk).status == Cluster.Status.OPEN


def test_the_suggested_member_can_be_kept_separate_once_another_is_chosen(browser, live_server, make_user, five_copies):
    """Keep or set aside per image: every member but the authoritative one offers "keep separate", whichever
    member the page first suggested."""
    from selenium.webdriver.common.by import By

    cluster, versions = five_copies
    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    suggested = browser.find_element(By.CSS_SELECTOR, ".member.chosen")
    suggested_id = int(suggested.get_attribute("data-version"))
    assert suggested_id != versions[1].pk
    assert not [k for k in suggested.find_elements(By.CSS_SELECTOR, ".keep") if k.is_displayed()]
    _key(browser, "2")
    keep = suggested.find_element(By.CSS_SELECTOR, ".keep input")
    assert keep.is_displayed()
    keep.click()
    browser.find_element(By.TAG_NAME, "h1").click()
    _after(browser, "m")
    kept = Version.objects.select_related("item").get(pk=suggested_id)
    assert kept.item.authoritative_version_id == kept.pk  # its own item again, not a duplicate
    merged = Version.objects.select_related("item").filter(pk__in=[v.pk for v in versions]).exclude(pk=suggested_id)
    assert {v.item.authoritative_version_id for v in merged} == {versions[1].pk}


def test_the_keys_help_names_every_key_the_cluster_page_answers_to(browser, live_server, make_user, twelve_copies):
    """Members past the ninth (0, then Shift with a digit, the picker), compare's own keys and the undo of the
    merge before are all in the help that ? opens, not only 1-9."""
    from selenium.webdriver.common.by import By

    cluster, versions = twelve_copies
    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    _key(browser, "?")
    help_box = browser.find_element(By.ID, "help")
    assert help_box.is_displayed()
    keys = {k.text for k in help_box.find_elements(By.TAG_NAME, "kbd")}
    missing = {"1", "9", "0", "⇧1", "⇧0", "p", "[", "]", "d", "+", "-", "U", "m", "n", "s", "u", "c", "f", "x"} - keys
    assert not missing, missing
    _key(browser, "?")
    assert not help_box.is_displayed()


@pytest.fixture
def fifteen_copies(add_version):
    picture = scene(97, (640, 480))
    versions = [
        add_version(f"copies/{n:02d}.jpg", encode(picture.resize((640 - n * 24, 480 - n * 18)), quality=95 - n * 2))
        for n in range(15)
    ]
    cluster = Cluster.objects.get(members__version=versions[0])
    assert cluster.members.count() == 15
    return cluster, versions


def _chosen_in_view(driver) -> list[str]:
    return driver.execute_script(_UNCOVERED, "#cluster-panel .member.chosen")


def test_a_member_on_a_third_row_chosen_by_key_comes_into_view_above_the_bar(
    browser, live_server, make_user, fifteen_copies
):
    """Past twelve members the grid takes a third row under the sticky bar: choosing one of them by key (Shift
    with a digit) or in the picker scrolls its card whole above the bar, and going back to the first scrolls up."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    cluster, versions = fifteen_copies
    make_user("curator", PERMS)
    browser.set_window_size(1440, 900)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    tops = browser.execute_script(
        "return Array.from(document.querySelectorAll('.member')).map(m => Math.round(m.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 3, tops
    assert browser.execute_script(_UNCOVERED, "#cluster-panel .member[data-n='14']")  # under the bar at first
    ActionChains(browser).key_down(Keys.SHIFT).send_keys("4").key_up(Keys.SHIFT).perform()
    assert browser.execute_script("return document.querySelector('.member.chosen').dataset.n") == "14"
    assert _chosen_in_view(browser) == []
    _key(browser, "1")
    assert browser.execute_script("return document.querySelector('.member.chosen').dataset.n") == "1"
    assert _chosen_in_view(browser) == []
    Select(browser.find_element(By.ID, "member-picker")).select_by_value(str(versions[12].pk))
    assert browser.execute_script("return document.querySelector('.member.chosen').dataset.n") == "13"
    assert _chosen_in_view(browser) == []
    _screenshot(browser, "cluster-third-row.png")


def test_members_are_kept_separate_by_key_in_the_grid_and_in_compare(browser, live_server, make_user, five_copies):
    """x then a member's key marks that member "keep separate" (again to take it back); in compare, x marks the
    copy compared with the authoritative one. The merge keeps those as pictures of their own."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cluster, versions = five_copies
    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    _open(browser, f"{live_server.url}/review/clusters/{cluster.pk}/")
    _key(browser, "1")

    def kept() -> set[str]:
        return set(
            browser.execute_script(
                "return Array.from(document.querySelectorAll('.member'))"
                ".filter(m => m.querySelector('input[name=keep]').checked).map(m => m.dataset.n)"
            )
        )

    _key(browser, "x3")
    assert kept() == {"3"}
    assert "kept" in browser.find_element(By.CSS_SELECTOR, ".member[data-n='3']").get_attribute("class")
    _key(browser, "x3")
    assert kept() == set()
    _key(browser, "x1")  # the authoritative member cannot be kept apart from itself
    assert kept() == set()
    assert browser.execute_script("return document.querySelector('.member.chosen').dataset.n") == "1"
    _key(browser, "x5")
    _screenshot(browser, "cluster-kept.png")
    _key(browser, "c")
    compare = browser.find_element(By.ID, "compare")
    while compare.find_element(By.CSS_SELECTOR, ".names").text.split(" | ") not in (["1", "4"], ["4", "1"]):
        _key(browser, "]")
    button = compare.find_element(By.CSS_SELECTOR, "[data-action=keep-compared]")
    assert button.get_attribute("aria-pressed") == "false"
    _key(browser, "x")
    assert kept() == {"4", "5"} and button.get_attribute("aria-pressed") == "true"
    _screenshot(browser, "compare-kept.png")
    _key(browser, "]")  # member 5, marked from the grid, shows as marked here too
    assert button.get_attribute("aria-pressed") == "true"
    _key(browser, Keys.ESCAPE)
    _after(browser, "m")
    separate = {versions[3].pk, versions[4].pk}
    for version in Version.objects.select_related("item").filter(pk__in=[v.pk for v in versions]):
        expected = version.pk if version.pk in separate else versions[0].pk
        assert version.item.authoritative_version_id == expected, version.original_path


@pytest.fixture
def fifty_clusters(add_version):
    """40 clusters of exact copies and 10 of near copies (a resized PNG beside a JPEG)."""
    for n in range(40):
        data = encode(scene(400 + n, (200, 150)), quality=90)
        add_version(f"exact/{n}.jpg", data)
        add_version(f"copies/{n}.jpg", data, source="Archive")
    for n in range(10):
        picture = scene(500 + n, (320, 240))
        add_version(f"near/{n}.jpg", encode(picture, quality=90))
        add_version(f"near/{n}.png", encode(picture.resize((240, 180)), "PNG"), source="Archive")
    assert Cluster.objects.filter(status=Cluster.Status.OPEN).count() == 50


def test_a_curator_resolves_50_clusters_by_keyboard_alone(browser, live_server, make_user, fifty_clusters):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    browser.get(f"{live_server.url}/review/?page=2")  # the surest first: near copies come after the exact ones
    words = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue tbody td[title]")]
    assert words[0].startswith("certain") and not words[-1].startswith("certain")
    browser.get(f"{live_server.url}/review/")
    _screenshot(browser, "review-queue.png")
    _key(browser, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#cluster-panel[data-ready]"))
    browser.execute_script("window.__sameDocument = true")
    counts = {"exact": [0, 0], "near": [0, 0]}  # [key presses, page loads]
    for _n in range(50):
        kinds = {e.get_attribute("title") for e in browser.find_elements(By.CSS_SELECTOR, ".member .tag.kind")}
        kind = "exact" if kinds == {"Exact copy (same bytes)"} else "near"
        counts[kind][0] += 1
        _after(browser, "m")
        if not browser.execute_script("return window.__sameDocument === true"):
            counts[kind][1] += 1
            browser.execute_script("window.__sameDocument = true")
    exact, near = counts["exact"], counts["near"]
    print(
        f"\nkeyboard review of 50 clusters: exact copies {exact[0]} keys, {exact[1]} page loads for 40 clusters "
        f"({exact[0] / 40:.1f} keys each); near copies {near[0]} keys, {near[1]} page loads for 10; "
        "plus 1 page load and 1 key (Enter) to open the first cluster"
    )
    assert Cluster.objects.filter(status=Cluster.Status.RESOLVED).count() == 50
    assert exact[0] / 40 <= 3 and exact[1] == 0
    panel = browser.find_element(By.ID, "cluster-panel")
    assert "Undo" in panel.text  # the last merge is one key away (no cluster is left to move on to)
    _after(browser, "u")
    assert Cluster.objects.filter(status=Cluster.Status.OPEN).count() == 1


def test_two_bulk_rules_are_created_in_the_interface_one_previewed_and_run(
    browser, live_server, make_user, fifty_clusters
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    make_user("curator", PERMS)
    browser_sign_in(browser, live_server.url, "curator")
    for name, kinds, size in (("Exact and same pixels", ("exact", "same_pixels"), ""), ("Near pairs", ("near",), "2")):
        browser.get(f"{live_server.url}/review/rules/")
        browser.find_element(By.NAME, "name").send_keys(name)
        for kind in kinds:
            browser.find_element(By.CSS_SELECTOR, f"input[name=kinds][value={kind}]").click()
        if size:
            browser.find_element(By.NAME, "max_size").send_keys(size)
        browser.find_element(By.CSS_SELECTOR, ".bulk-form button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda d: "/preview/" in d.current_url)
    assert BulkRule.objects.count() == 2
    rule = BulkRule.objects.get(name="Exact and same pixels")
    browser.get(f"{live_server.url}/review/rules/{rule.pk}/preview/")
    counts = browser.find_element(By.CSS_SELECTOR, ".preview-counts").text
    assert "40 clusters" in counts and "80 versions" in counts
    sample = browser.find_elements(By.CSS_SELECTOR, "#preview-sample tbody tr")
    assert len(sample) == 8
    for row in sample:  # each sample cluster says which version a run would keep, and why
        cluster_id = int(row.find_element(By.CSS_SELECTOR, "a").text.lstrip("#"))
        paths = set(
            Version.objects.filter(cluster_memberships__cluster_id=cluster_id).values_list("original_path", flat=True)
        )
        kept = row.find_element(By.CSS_SELECTOR, ".kept")
        assert kept.find_element(By.CSS_SELECTOR, ".path").text in paths and "Suggested for:" in kept.text
    _screenshot(browser, "bulk-preview.png")
    act_and_wait_for_new_page(browser, browser.find_element(By.ID, "run-rule").click)
    WebDriverWait(browser, 30).until(lambda d: "Run #" in d.find_element(By.TAG_NAME, "main").text)
    assert Cluster.objects.filter(status=Cluster.Status.RESOLVED).count() == 40
    assert AuditEvent.objects.filter(action="bulk.run").count() == 1
    _screenshot(browser, "bulk-rules.png")
    act_and_wait_for_new_page(browser, browser.find_element(By.CSS_SELECTOR, "#bulk-runs button[type=submit]").click)
    WebDriverWait(browser, 20).until(lambda d: "undone by curator" in d.find_element(By.ID, "bulk-runs").text)
    assert Cluster.objects.filter(status=Cluster.Status.OPEN).count() == 50
    assert BulkRun.objects.get().undone_at is not None
