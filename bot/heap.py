"""After start-up: keep the collector off the start-up objects, return free pages.

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


def settle() -> None:
    """Freeze every object alive (see the module docstring), trim the C heap.

    No collection first: after serve's start-up a full one found 10 unreachable objects
    and took 49-70 ms of the start-up (2026-12-07); frozen, those few stay for good.
    """
    gc.freeze()
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
