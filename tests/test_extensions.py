"""The crawl process's extensions that are not tested through a whole crawl elsewhere."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from scrapy import signals
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from newsclean.crawl.extensions import FreezeStartup


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_start_up_objects_are_set_aside_from_the_collector_when_the_engine_starts(unfrozen: None) -> None:
    assert "newsclean.crawl.extensions.FreezeStartup" in get_project_settings().getdict("EXTENSIONS")
    crawler = get_crawler(settings_dict={"MEMUSAGE_ENABLED": False})
    extension = FreezeStartup.from_crawler(crawler)  # Scrapy keeps its extensions; signals hold weak references
    assert gc.get_freeze_count() == 0
    kept = [["made before the engine started"]]
    crawler.signals.send_catch_log(signals.engine_started)
    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(kept)
    assert all(o is not kept for o in gc.get_objects())  # set aside: no collection walks it again
    made_after = [["made during the crawl"]]
    assert any(o is made_after for o in gc.get_objects())
    assert extension is not None
