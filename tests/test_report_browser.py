"""The HTML report in a real browser: headless Chromium loads it with no console errors, the inline script
runs (``data-ready``), the sortable table sorts, the map is drawn (SVG paths) and the screenshot is not blank.

Marked ``browser``: without Chromium these tests skip with the reason (Chromium is optional on a
developer's machine); .ci/run installs Debian's ``chromium`` and sets ``CURATE_REQUIRE_BROWSER=1``, which
turns that skip into a failure (tests/conftest.py), and checks that they ran.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from conftest import chromium_path
from geo_fixtures import COLLECTION, write_catalog
from PIL import Image

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--enable-logging=stderr", "--v=0"]


def chromium() -> str:
    exe = chromium_path()
    assert exe is not None, "the browser marker's setup hook skips (or fails) before this"
    return exe


def run_browser(page, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    """Console messages the page produced (Chromium logs them as ':CONSOLE' lines with --enable-logging)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from conftest import invoke

    base = tmp_path_factory.mktemp("browser")
    catdir = write_catalog(base / "catalog")
    out = base / "report.html"
    res = invoke("--catalog", str(catdir), "report", "--collection", COLLECTION, "--out", str(out))
    assert res.exit_code == 0, res.stderr
    return out


def test_console_check_catches_errors(tmp_path):
    """Positive control: the same check flags a page whose script throws."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>nosuchfunction();</script></body></html>", encoding="utf-8")
    proc = run_browser(bad, tmp_path, "--dump-dom")
    assert any("nosuchfunction" in line for line in console_errors(proc.stderr))


def test_report_loads_without_errors_and_draws_map(report, tmp_path):
    proc = run_browser(report, tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_errors(proc.stderr) == []
    dom = proc.stdout
    assert re.search(r'<body[^>]*data-ready="1"', dom), "the inline script did not finish"
    figure = re.search(r'<figure id="map".*?</figure>', dom, flags=re.S).group(0)
    assert figure.count("<path") > 150  # country polygons drawn inline
    assert 'id="dataset-table"' in dom


def test_sorting_script_sorts(report, tmp_path):
    """Click the Images header twice via an injected script; the first data row must be the largest."""
    page = tmp_path / "sorted.html"
    html = report.read_text(encoding="utf-8")
    click = ("<script>var t=document.getElementById('dataset-table');var th=t.tHead.rows[0].cells[3];"
             "th.click();th.click();document.body.dataset.first=t.tBodies[0].rows[0].cells[0].textContent;"
             "</script></body>")
    page.write_text(html.replace("</body>", click), encoding="utf-8")
    proc = run_browser(page, tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    assert console_errors(proc.stderr) == []
    first = re.search(r'data-first="([^"]*)"', proc.stdout).group(1)
    assert first.startswith("GEO-C")  # 20,000 images, the largest generated dataset
    assert re.search(r'aria-sort="descending"', proc.stdout)


def test_screenshot_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    proc = run_browser(report, tmp_path, "--window-size=1200,1400", "--virtual-time-budget=5000",
                       f"--screenshot={shot}")
    assert shot.exists(), proc.stderr[-2000:]
    arr = np.asarray(Image.open(shot).convert("RGB")).astype(float)
    assert arr.shape[0] == 1400 and arr.shape[1] == 1200
    assert arr.std() > 15
    assert len({tuple(p) for p in arr.reshape(-1, 3)[::5].astype(int)}) > 30
