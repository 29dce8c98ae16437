"""A real server (the `outreach serve` command on a fresh SQLite file) and a real Chromium.

Skipped with a reason on a developer machine without Chromium; in CI (CI=true) a missing browser fails.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("OUTREACH_CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser") or "")
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, url: str, logins: dict[str, str], instance: Path) -> None:
        self.url = url
        self.logins = logins
        self.instance = instance


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("instance")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(OUTREACH_INSTANCE_DIR=str(instance), PYTHONUNBUFFERED="1")
    log_path = instance / "server.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "outreach.cli", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    logins: dict[str, str] = {}
    url = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and url is None and proc.poll() is None:
        time.sleep(0.2)
        text = log_path.read_text()
        found = re.search(r"running at (http://127\.0\.0\.1:\d+)/", text)
        if found:
            url = found.group(1)
            logins = {m.group(1): m.group(3) for m in re.finditer(r"^\s+(\w+) \((\w+)\): (\S+)$", text, re.M)}
    if url is None:
        proc.kill()
        log.close()
        pytest.fail("the server did not start:\n" + log_path.read_text())
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield LiveServer(url, logins, instance)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM:
        if IN_CI:
            pytest.fail("Chromium is required in CI (Debian package 'chromium')")
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, live_server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server.url, locale="ja-JP", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    # 4xx answers are expected (a form with errors answers 400, an unknown postal code 404).
    pg.on("console", lambda msg: errors.append(msg.text)
          if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    assert not errors, f"JavaScript errors on the page: {errors}"
    context.close()


def check_accessibility(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core (WCAG 2.0/2.1/2.2 A and AA rules): the serious or critical violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}})
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
