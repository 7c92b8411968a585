"""Bounded in-process caches of pure results, used by every layer (it imports nothing from `wizard`).

Every cache here holds results that depend only on their key (a rendered bundle, a highlighted
file, a verification result): nothing in them is state shared between app servers, and losing
one only costs the time to compute it again. Each is bounded by the bytes it holds (an estimate
given by the caller, close to the size of the text it stores), never by its number of entries:
a 100-pool bundle weighs a thousand times a one-pool one, so a count alone bounds nothing.

`ByteLRU` is the cache; `per_object` memoises a pure function of one immutable object (a
`PlanData`) for the duration of a render, without hashing or comparing the object.
"""
from __future__ import annotations

import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")
R = TypeVar("R")

MiB = 1024 * 1024
# What one entry costs besides the bytes the caller counts (key, bookkeeping, small objects).
ENTRY_OVERHEAD = 512


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of one cache, for the benchmarks and the docs."""

    name: str
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int


class ByteLRU(Generic[K, V]):
    """A thread-safe least-recently-used cache bounded by the bytes of its values.

    `put(key, value, size)` stores `value` counted as `size` bytes (plus ENTRY_OVERHEAD) and
    evicts the least recently used entries until the total is within `max_bytes`; a value
    larger than a quarter of the budget is not stored at all (it would evict everything else).
    The values must be treated as read-only by whoever gets them.
    """

    def __init__(self, name: str, max_bytes: int) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        _REGISTRY.add(self)

    def get(self, key: K) -> V | None:
        """Return the value stored for `key` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: K, value: V, size: int) -> None:
        """Store `value` for `key`, counted as `size` bytes; evict older entries to stay in budget."""
        cost = max(0, size) + ENTRY_OVERHEAD
        if cost > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes and self._items:
                _, (_, evicted) = self._items.popitem(last=False)
                self._bytes -= evicted

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        """Return the bytes counted for the entries held now."""
        return self._bytes

    def stats(self) -> CacheStats:
        """Return a snapshot of the cache's size and hit counts."""
        return CacheStats(self.name, len(self._items), self._bytes, self.max_bytes, self.hits, self.misses)


_REGISTRY: weakref.WeakSet[ByteLRU[Any, Any]] = weakref.WeakSet()


def all_caches() -> list[CacheStats]:
    """Return a snapshot of every ByteLRU of this process."""
    return sorted((cache.stats() for cache in list(_REGISTRY)), key=lambda s: s.name)


def clear_all() -> None:
    """Empty every ByteLRU of this process (the benchmarks measure renders from nothing)."""
    for cache in list(_REGISTRY):
        cache.clear()
    for clear in _PER_OBJECT_CLEARERS:
        clear()


def text_size(texts: Iterable[str | bytes]) -> int:
    """Return the bytes `texts` occupy in memory (str: one to four bytes a character plus its header)."""
    return sum(sys.getsizeof(t) for t in texts)


_PER_OBJECT_CLEARERS: list[Callable[[], None]] = []


def per_object(slots: int = 4) -> Callable[[Callable[[T], R]], Callable[[T], R]]:
    """Memoise a pure function of one immutable object by the object's identity.

    A render asks for the same derived tables (the certificate plan, the publishing rules, the
    contexts of the Management Shell script) many times over one `PlanData`; hashing or comparing
    a 100-pool plan on every call would cost more than some of the answers. The last `slots`
    objects are remembered with their results (and kept alive, so an identity is never reused
    while it is remembered): a handful of plans, bounded by the plans themselves. The object
    must be immutable (a frozen dataclass) and the result treated as read-only.
    """
    def decorate(fn: Callable[[T], R]) -> Callable[[T], R]:
        memo: list[tuple[T, R]] = []
        lock = threading.Lock()

        @wraps(fn)
        def wrapper(obj: T) -> R:
            with lock:
                for held, result in memo:
                    if held is obj:
                        return result
            result = fn(obj)
            with lock:
                memo.insert(0, (obj, result))
                del memo[slots:]
            return result

        def clear() -> None:
            with lock:
                memo.clear()

        wrapper.cache_clear = clear  # type: ignore[attr-defined]
        _PER_OBJECT_CLEARERS.append(clear)
        return wrapper

    return decorate


__all__ = ["ENTRY_OVERHEAD", "ByteLRU", "CacheStats", "MiB", "all_caches", "clear_all", "per_object", "text_size"]
