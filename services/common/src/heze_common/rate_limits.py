"""Request limits that every replica of a service shares: each client's requests are counted in
the service's PostgreSQL database, per minute, so a client gets the same allowance however the
load balancer spreads its requests, and no process keeps a map of clients that could grow.

A client is the address uvicorn reports: the peer's, or the `X-Forwarded-For` one when the peer
is a configured trusted proxy (`FORWARDED_ALLOW_IPS`, never assumed). The address is stored as a
hash (an address's rows live two minutes at most: each process deletes the older ones once a
minute).
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import asyncpg

from heze_common.errors import RateLimited

WINDOW_SECONDS = 60


class SharedRateLimit:
    """At most `per_minute` requests per client in each clock minute, for one named limit."""

    def __init__(self, pool: asyncpg.Pool, schema: str, name: str, per_minute: int) -> None:
        self.pool = pool
        self.table = f'"{schema}".rate_limits'
        self.name = name
        self.per_minute = per_minute
        self._created = False
        self._creating = asyncio.Lock()
        self._pruned_before = 0
        """The minute before which this process last deleted the rows."""

    async def admit(self, client: str) -> None:
        """Count this request of `client`, or refuse it (429 `rate_limited`)."""
        await self._ensure_table()
        minute = int(time.time() // WINDOW_SECONDS)
        counted = await self.pool.fetchval(
            f"INSERT INTO {self.table} AS counted (limit_name, client, minute, requests)"
            " VALUES ($1, $2, $3, 1) ON CONFLICT (limit_name, client, minute)"
            " DO UPDATE SET requests = counted.requests + 1 RETURNING requests",
            self.name,
            hashlib.sha256(f"{self.name}:{client}".encode()).hexdigest()[:32],
            minute,
        )
        if self._pruned_before < minute - 1:  # once a minute: drop what no window needs
            self._pruned_before = minute - 1
            await self.pool.execute(f"DELETE FROM {self.table} WHERE minute < $1", minute - 1)
        if counted > self.per_minute:
            raise RateLimited(
                "rate_limited", f"at most {self.per_minute} {self.name} a minute; try again shortly"
            )

    async def _ensure_table(self) -> None:
        if self._created:
            return
        async with self._creating:
            try:
                await self.pool.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} (limit_name TEXT NOT NULL,"
                    " client TEXT NOT NULL, minute BIGINT NOT NULL, requests INT NOT NULL,"
                    " PRIMARY KEY (limit_name, client, minute))"
                )
            except (asyncpg.UniqueViolationError, asyncpg.DuplicateTableError):
                pass  # another replica created it at the same moment
            self._created = True
