"""Deployment to scrapyd, for real: a scrapyd server on loopback, `scrapyd-deploy`, `schedule.json`."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsclean.fixtures import load_fixtures

from .conftest import ROOT
from .helpers import free_port

pytestmark = pytest.mark.crawl


def _api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(f"{base}/{endpoint}", data=body, timeout=10) as response:
        return dict(json.load(response))


@pytest.fixture
def scrapyd(tmp_path: Path, run_env: dict[str, str]) -> Iterator[str]:
    """A scrapyd server on a loopback port, with its files under ``tmp_path``; yields its URL."""
    home = tmp_path / "scrapyd"
    home.mkdir()
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\nitems_dir =\n"
        "poll_interval = 0.5\nmax_proc = 2\n",
        encoding="utf-8",
    )
    server = subprocess.Popen(["scrapyd"], cwd=home, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _api(base, "daemonstatus.json")
                break
            except OSError:
                assert server.poll() is None, "scrapyd exited"
                assert time.monotonic() < deadline, "scrapyd did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_deploy_to_scrapyd_and_schedule_a_crawl(
    scrapyd: str, mirror: str, tmp_path: Path, run_env: dict[str, str]
) -> None:
    # Deploy as a user does: scrapy.cfg names the target; scrapyd-deploy builds the egg and uploads it.
    project = tmp_path / "project"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    cfg = project / "scrapy.cfg"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[deploy]", f"[deploy]\nurl = {scrapyd}/"), encoding="utf-8")
    deploy = subprocess.run(["scrapyd-deploy", "-p", "newsclean"], cwd=project, env=run_env, capture_output=True,
                            text=True, timeout=180)  # fmt: skip
    assert deploy.returncode == 0, deploy.stderr[-2000:]
    assert _api(scrapyd, "listspiders.json?project=newsclean")["spiders"] == sorted(
        ["article", "feed", "sitemap", "warc", *{f.site for f in load_fixtures()}]
    )

    db = tmp_path / "store.sqlite"
    settings = [f"NEWSCLEAN_MIRROR={mirror}", f"NEWSCLEAN_DB={db}", "AUTOTHROTTLE_ENABLED=0", "DOWNLOAD_DELAY=0"]
    job = _api(scrapyd, "schedule.json", [("project", "newsclean"), ("spider", "trtworld")] +
               [("setting", s) for s in settings])  # fmt: skip
    assert job["status"] == "ok"
    deadline = time.monotonic() + 120
    while not any(j["id"] == job["jobid"] for j in _api(scrapyd, "listjobs.json?project=newsclean")["finished"]):
        assert time.monotonic() < deadline, "the scheduled crawl did not finish"
        time.sleep(0.5)

    expected = sorted(f.expected["canonical_url"] for f in load_fixtures(site="trtworld") if f.kind == "article")
    with sqlite3.connect(db) as conn:
        assert sorted(u for (u,) in conn.execute("SELECT canonical_url FROM articles")) == expected
        assert conn.execute("SELECT spider, new FROM runs").fetchall() == [("trtworld", len(expected))]
