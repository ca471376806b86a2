"""After start-up: the collector off the start-up objects and out of the way; free pages back.

``gc.freeze()`` moves every object alive after start-up (the models, the catalogs,
the modules) to a permanent generation the cyclic collector no longer walks: a full
collection under load took 66 ms before and 15 ms after (in process, 700 messages),
and two processes on PostgreSQL went from 462-472 to 499-514 messages/s with p99
from 50 to 44 ms (benchmark client, 10 conversations; measured on the machine of
2026-11-25, which ran Python 3.3 to 3.9 times faster than one of 2026-12-01).

Then the C heap's free pages go back to the system.

Loading models in native code (lingua's, which the language detector used until
2026-12-07) frees memory that stays in the C allocator's heap (glibc's malloc keeps the
freed pages of its arenas). Python's own small objects live elsewhere (pymalloc's
arenas), so nothing later reuses most of those pages: they would stay resident for the
life of the process. ``malloc_trim(0)`` returns every whole free page to the system
(measured with lingua's models: 30 MB after serve's start-up, 215 -> 185 MB; a
``gc.collect()`` before it freed nothing more and took 60 ms).
"""

from __future__ import annotations

import ctypes
import gc

#: The young generation's threshold while serving (CPython's default is 700).
#:
#: What triggers a young collection is the count of container objects allocated less
#: those freed, and requests in flight hold theirs until they end: at the default, a young
#: collection came about every ten messages, walking objects alive anyway, moving them to
#: the older generations and walking them there again.
#: One serving process taken through ``benchmarks/load.py``'s levels on PostgreSQL (4,300
#: messages; 2026-12-07, a machine whose fixed loop took 0.6 s), the collections counted
#: after start-up: at 701, 410-433 young, 37-39 middle and 3 full ones, 0.41-0.42 s of the
#: process's 13.3-13.9 s of CPU (a full one about 10 ms, which the requests waiting behind
#: it add to their latency); at 7,000, 4 young ones (6 ms), all in the first requests.
#: Two runs each. Garbage held in cycles waits longer: until 7,000 net new containers.
YOUNG_THRESHOLD = 7000


def settle() -> None:
    """Freeze every object alive, collect less often while serving, trim the C heap.

    Freezing: see the module docstring; the young generation's threshold:
    :data:`YOUNG_THRESHOLD`.

    No collection first: after serve's start-up a full one found 10 unreachable objects
    and took 49-70 ms of the start-up (2026-12-07); frozen, those few stay for good.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    release_free_memory()


def one_arena() -> None:
    """Let every thread allocate from the C heap's main arena (glibc's ``M_ARENA_MAX`` 1).

    Call it first thing, before any thread starts. glibc gives threads that allocate at
    the same time arenas of their own, and what they free there stays resident: lingua's
    worker threads, which loaded its models in parallel at start-up until 2026-12-07,
    left 12 MB more of the process resident after ``malloc_trim`` (76 against 64 MB).
    The serving process runs its work on one thread, so sharing one arena costs it no
    waiting. A no-op elsewhere than glibc.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_ARENA_MAX, 1)


_M_ARENA_MAX = -8  # glibc's malloc.h


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc only; a few milliseconds)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
