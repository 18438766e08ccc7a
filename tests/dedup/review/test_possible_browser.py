"""A curator decides a possible duplicate in Chromium: the differing place is outlined on both images."""

import pytest

from dedup.models import ClusterMember
from tests.conftest import act_and_wait_for_new_page, browser_sign_in, needs_chromium, save_screenshot
from tests.images import encode, one_place_changed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


def test_a_curator_sees_the_outlined_place_and_confirms_the_pair(browser, live_server, role_user, add_version):
    from selenium.webdriver.common.by import By

    photo, changed = one_place_changed()
    chan = add_version("harbour/print.png", encode(photo, "PNG"))
    wong = add_version("harbour/press.png", encode(changed.resize((changed.width // 2, changed.height // 2)), "PNG"))
    role_user("curator", "curator")
    browser_sign_in(browser, live_server.url, "curator")
    browser.get(f"{live_server.url}/review/")
    act_and_wait_for_new_page(browser, browser.find_element(By.LINK_TEXT, "Possible duplicates").click)
    rects = browser.find_elements(By.CSS_SELECTOR, ".possible-pair svg.region rect")
    assert len(rects) == 2 and all(r.size["width"] > 5 and r.size["height"] > 3 for r in rects)
    save_screenshot(browser, "possible-duplicates.png")
    confirm = browser.find_element(By.CSS_SELECTOR, 'button[name="decision"][value="confirm"]')
    act_and_wait_for_new_page(browser, confirm.click)
    assert "No possible duplicates wait for a decision." in browser.page_source
    assert set(ClusterMember.objects.values_list("version_id", flat=True)) == {chan.pk, wong.pk}
