"""deploy/: the systemd units pass `systemd-analyze verify` and the compose file `docker compose config`."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SERVICES = {"postgres", "redis", "web", "worker", "beat"}


def _compose_client() -> list[str] | None:
    """`docker compose` (v2 plugin) where it is installed, else Debian's `docker-compose` (v1), else none."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_the_three_units_are_there_and_the_worker_and_beat_always_restart():
    assert {unit.name for unit in UNITS} == {
        "dupfinder-web.service",
        "dupfinder-worker.service",
        "dupfinder-beat.service",
    }
    for name in ("dupfinder-worker.service", "dupfinder-beat.service"):
        assert "\nRestart=always\n" in (DEPLOY / "systemd" / name).read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed on this machine")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """The units name /opt/dupfinder; here they point at this checkout, so the commands they run must exist."""
    for unit in UNITS:
        text = unit.read_text().replace("/opt/dupfinder/.venv/bin", str(Path(sys.executable).parent))
        (tmp_path / unit.name).write_text(text.replace("/opt/dupfinder", str(ROOT)))
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_compose_file_is_valid_and_has_the_five_services(tmp_path):
    client = _compose_client()
    if client is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed on this machine")
    (tmp_path / "deploy").mkdir()
    shutil.copy(DEPLOY / "compose.yaml", tmp_path / "deploy" / "compose.yaml")
    shutil.copy(DEPLOY / "compose.env.example", tmp_path / "deploy" / "compose.env")
    result = subprocess.run(
        [*client, "-f", str(tmp_path / "deploy" / "compose.yaml"), "config", "--services"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == SERVICES
