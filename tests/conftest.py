"""Shared fixtures: users with permissions, a real Celery worker process, headless Chromium, test images."""

import io
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.utils.nodenames import default_nodename, host_format
from django.conf import settings
from django.contrib.auth.models import Permission

from config.celery_app import app as celery_app
from tests.factories import PASSWORD, UserFactory
from tests.object_storage import s3, s3_endpoint  # noqa: F401 - fixtures: an S3 server on loopback

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Browser tests save what they saw under var/; `DUPFINDER_SCREENSHOTS_DIR=docs/screenshots make test` refreshes
# the README's pictures without every ordinary run rewriting tracked files.
SCREENSHOTS = Path(os.environ.get("DUPFINDER_SCREENSHOTS_DIR", ROOT / "var" / "screenshots"))
needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM) or not shutil.which("chromedriver"), reason="no Chromium"
)


def store_file(path: str, data: bytes, *, source: str = "Photo Unit", batch=None, uploader=None):
    """Store one file as a new version (not yet processed), as uploading it from `path` would."""
    from collections_app.services import source_get_or_create, version_ingest

    outcome = version_ingest(
        fileobj=io.BytesIO(data),
        original_filename=path.rsplit("/", 1)[-1],
        original_path=path,
        source=batch.source if batch else source_get_or_create(name=source),
        uploader=uploader,
        batch=batch,
    )
    assert outcome.created, outcome.message
    return outcome.version


@pytest.fixture
def make_user():
    def make(username="staff", perms=()):
        user = UserFactory(username=username)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return user

    return make


@pytest.fixture
def uploader(make_user):
    return make_user(
        "librarian",
        ["collections_app.add_version", "collections_app.view_version", "collections_app.view_item"],
    )


def _worker_env() -> dict[str, str]:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CELERY_TASK_ALWAYS_EAGER="false",
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    return env


def _worker_nodename(args: tuple[str, ...]) -> str | None:
    """The node name given with -n/--hostname, expanded as the worker expands it (%h and the like)."""
    for i, arg in enumerate(args):
        if arg in ("-n", "--hostname") and i + 1 < len(args):
            return host_format(default_nodename(args[i + 1]))
        if arg.startswith("--hostname="):
            return host_format(default_nodename(arg.split("=", 1)[1]))
    return None


def start_worker(*extra_args: str) -> subprocess.Popen:
    """A real `celery -A config worker` process against the test database and the Redis broker.

    Returns once this worker (by its node name, unique unless one is given) answers a ping: another worker
    on the same broker answering says nothing about this one.
    """
    nodename = _worker_nodename(extra_args)
    if nodename is None:
        name = f"test-{uuid.uuid4().hex[:12]}@%h"
        extra_args = (*extra_args, "-n", name)
        nodename = host_format(default_nodename(name))
    celery = str(Path(sys.executable).with_name("celery"))
    process = subprocess.Popen(
        [celery, "-A", "config", "worker", "--loglevel=WARNING", "--without-gossip", "--without-mingle", *extra_args],
        cwd=ROOT,
        env=_worker_env(),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("The Celery worker exited at start-up.")
            if celery_app.control.ping(destination=[nodename], timeout=0.5):
                return process
        raise RuntimeError(f"The Celery worker {nodename} did not answer within 30 seconds.")
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise


def stop_worker(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def live_broker(django_db_setup):
    """Tasks go through Redis (purged first) instead of running in this process."""
    celery_app.conf.task_always_eager = False
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    yield
    celery_app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture
def live_worker(live_broker):
    """One separate worker process, as in production."""
    process = start_worker("--pool=solo", "-n", "solo@%h")
    yield process
    stop_worker(process)


@pytest.fixture
def two_workers(live_broker):
    """Two worker processes, standing in for two hosts."""
    processes = [start_worker("--pool=solo", "-n", f"w{n}@%h") for n in (1, 2)]
    yield processes
    for process in processes:
        stop_worker(process)


def wait_until(predicate, timeout: float = 60, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("condition not met within %.0f s" % timeout)


@pytest.fixture
def role_user():
    """A user in one of the role groups; groups are re-created first, as transactional tests flush them."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from collections_app.roles import roles_sync

    roles_sync(apps)

    def make(role: str, username: str | None = None):
        user = UserFactory(username=username or role)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def browser():
    """Headless Chromium driven by selenium; use with pytest-django's live_server."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1200",
        "--lang=en",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def browser_sign_in(driver, base_url: str, username: str, password: str = PASSWORD) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/accounts/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password, Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: "/accounts/login" not in d.current_url)


def replaced(element):
    """A wait condition: `element` has left the page (its page or panel was replaced). Like Selenium's
    staleness_of, and also when Chromium, caught mid-navigation, says the node's document is gone."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def check(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    return check


def act_and_wait_for_new_page(driver, act) -> None:
    """Run act (a click or a key press that submits), then wait until the browser has replaced the old page;
    reading the page before then sees the old one, or an element of it that has gone stale."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    act()
    WebDriverWait(driver, 10).until(replaced(old))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def save_screenshot(driver, name: str) -> None:
    """Into SCREENSHOTS, once every image on the page has loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)")
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / name))
