"""After start-up: free pages returned, the collector settled; one arena for every thread."""

from __future__ import annotations

import gc
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.heap import YOUNG_THRESHOLD, release_free_memory, settle


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_pages_inside_the_heap_go_back_to_the_system() -> None:
    blocks = [bytearray(1024) for _ in range(100_000)]  # ~100 MB from malloc (over 512 B)
    kept = blocks[::64]  # one block in 64 stays: the heap cannot shrink from its top
    del blocks
    before = rss_mb()
    release_free_memory()
    assert rss_mb() < before - 50
    assert len(kept) == 1563


@pytest.fixture
def collector() -> Iterator[None]:
    """Give the collector back as it was: nothing frozen, the thresholds of before."""
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector")
def test_settle_puts_what_start_up_made_out_of_the_collectors_way() -> None:
    model = [{"weights": [0.5] * 10}]  # stands for what start-up loaded
    assert any(o is model for o in gc.get_objects())
    settle()
    assert not any(o is model for o in gc.get_objects())  # frozen: never walked again
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("collector")
def test_settle_raises_only_the_young_generations_threshold() -> None:
    before = gc.get_threshold()
    assert before[0] < YOUNG_THRESHOLD
    settle()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])


THREADS = """
import ctypes, sys, threading
from bot.heap import one_arena
if sys.argv[1] == "one":
    one_arena()
def work():
    blocks = [bytearray(2048) for _ in range(200)]  # from malloc (over 512 bytes)
threads = [threading.Thread(target=work) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" section per arena, on stderr
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_one_arena_keeps_every_thread_on_the_main_arena() -> None:
    arenas = {}
    for mode in ("default", "one"):
        done = subprocess.run(
            [sys.executable, "-c", THREADS, mode], capture_output=True, text=True, check=True
        )
        arenas[mode] = done.stderr.count("Arena ")
    assert arenas["one"] == 1
    assert arenas["default"] > 1  # threads get arenas of their own otherwise
