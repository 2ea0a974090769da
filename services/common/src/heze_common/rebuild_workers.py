"""The bulk of a rebuild, folded in worker processes.

Selecting, decoding and folding a batch is Python work, and one process does it under one
interpreter lock however many threads share it. A batch's writes depend on no other batch's
(each batch folds into its own query), so batches can be folded side by side: each worker
process selects a range of the log, decodes and folds it, and hands back the query; the
caller writes the queries in log order. A worker costs its own interpreter (about 100 MB) while
the rebuild runs, and nothing after.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from heze_common.settings import ServiceSettings


@dataclass(frozen=True)
class Folded:
    """A range of the log folded: the query writing its effect, the events it applied, and the
    last position of the range."""

    query: bytes
    applied: int
    stop: int


@dataclass(frozen=True)
class Recipe:
    """What a worker needs to fold as the rebuilding process would: the service's settings (its
    database and cipher key), the views by class, their tables' column types, and the schema
    written."""

    settings: ServiceSettings
    view_classes: Sequence[type]
    column_types: dict[str, dict[str, str]]
    schema: str
    holds_personal_data: bool
    """Whether the service's events hold personal fields (then the worker opens them with the
    people's keys)."""


class _Folder:
    """A worker's own application (for selecting and decoding) and views (for folding)."""

    def __init__(self, recipe: Recipe) -> None:
        # Imported here: a worker process starts from nothing, and these import the services.
        from heze_common.eventstore import ServiceApplication
        from heze_common.views import ViewUpdater

        settings = recipe.settings.model_copy(update={"create_tables": False})
        self.app = ServiceApplication(settings, personal_data=recipe.holds_personal_data)
        self.updater = ViewUpdater(
            self.app, [view() for view in recipe.view_classes], create_tables=False
        )
        self.updater.column_types.known.update(recipe.column_types)
        self.schema = recipe.schema

    def fold(self, start: int, stop: int) -> Folded:
        notifications = self.app.recorder.select_notifications(start, stop - start + 1, stop)
        with self.app.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            query, applied = self.updater.fold_into_query(cursor, self.schema, notifications)
        return Folded(query, applied, stop)


_folder: _Folder | None = None
"""This worker process's folder, made by its initializer (the pool's way to keep state)."""


def _start(recipe: Recipe) -> None:
    global _folder  # noqa: PLW0603 - one per worker process, set once as it starts
    _folder = _Folder(recipe)


def _fold(start: int, stop: int) -> Folded:
    assert _folder is not None, "a worker folds only after its initializer ran"
    return _folder.fold(start, stop)


def ranges(head: int, size: int) -> Iterator[tuple[int, int]]:
    """The log's positions 1..head in ranges of `size`: (first, last)."""
    for start in range(1, head + 1, size):
        yield start, min(start + size - 1, head)


def folded_in_workers(
    recipe: Recipe, parts: Iterable[tuple[int, int]], workers: int
) -> Iterator[Folded]:
    """Each range of `parts` folded by one of `workers` processes, yielded in order, with at
    most two ranges per worker in flight (a rebuild's memory does not grow with the log)."""
    context = multiprocessing.get_context("spawn")  # a fork would copy the caller's threads' locks
    with ProcessPoolExecutor(workers, context, initializer=_start, initargs=(recipe,)) as pool:
        pending: deque[Future[Folded]] = deque()
        try:
            for start, stop in parts:
                pending.append(pool.submit(_fold, start, stop))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
