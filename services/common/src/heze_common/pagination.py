"""Keyset pagination of list endpoints: `?limit=N&after=<id of the last item seen>`.

A page is one indexed range scan from the cursor, however deep it is (an OFFSET would read and
skip every row before it). A page that may have more carries a `Link: <…>; rel="next"` header
(RFC 8288) with the next page's address; the last page has none. The body stays a JSON list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Depends, Query, Request, Response

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: UUID | None

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, to know whether another page follows."""
        return self.limit + 1


def page_request(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT})")
    ] = DEFAULT_LIMIT,
    after: Annotated[
        UUID | None, Query(description="The id of the last item of the previous page")
    ] = None,
) -> PageRequest:
    return PageRequest(limit, after)


Page = Annotated[PageRequest, Depends(page_request)]


def paginated(
    rows: Sequence[T],
    page: PageRequest,
    key: Callable[[T], UUID],
    request: Request,
    response: Response,
) -> list[T]:
    """The page's items; when more follow, the `Link` header to the next page."""
    items = list(rows[: page.limit])
    if len(rows) > page.limit:
        following = request.url.include_query_params(after=str(key(items[-1])), limit=page.limit)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return items
