"""A closed-loop load generator: C clients, each POSTing its next body as soon as the last returns."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

__all__ = ["LoadResult", "Percentiles", "percentiles", "post_all"]

JSON_HEADERS = {"content-type": "application/json"}


@dataclass
class LoadResult:
    """What one load run saw from the client side."""

    sent: int = 0
    accepted: int = 0
    started: float = 0.0  # perf_counter at the first POST
    finished: float = 0.0  # perf_counter when the last response arrived
    latencies: list[float] = field(default_factory=list)  # seconds, accepted requests only
    ids: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    timed_out: bool = False

    @property
    def elapsed(self) -> float:
        return max(self.finished - self.started, 1e-9)

    @property
    def rate(self) -> float:
        """Accepted messages per second, first POST to last answer."""
        return self.accepted / self.elapsed


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p90: float
    p99: float
    max: float
    mean: float


def percentiles(values: Sequence[float]) -> Percentiles:
    """Nearest-rank percentiles (no interpolation), in the unit of ``values``."""
    if not values:
        nan = float("nan")
        return Percentiles(nan, nan, nan, nan, nan)
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    return Percentiles(
        p50=rank(0.50),
        p90=rank(0.90),
        p99=rank(0.99),
        max=ordered[-1],
        mean=sum(ordered) / len(ordered),
    )


async def post_all(
    base_url: str,
    path: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int,
    timeout: float,
    request_timeout: float = 30.0,
) -> LoadResult:
    """POST every body once with ``concurrency`` clients; stop after ``timeout`` seconds."""
    result = LoadResult()
    queue = iter(range(len(bodies)))  # one event loop: the clients share it without a lock
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=request_timeout, trust_env=False
    ) as client:

        async def client_loop() -> None:
            for index in queue:
                result.sent += 1
                begun = time.perf_counter()
                try:
                    response = await client.post(path, content=bodies[index], headers=JSON_HEADERS)
                except httpx.HTTPError as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                took = time.perf_counter() - begun
                result.finished = time.perf_counter()
                if response.status_code == 202:
                    result.accepted += 1
                    result.latencies.append(took)
                    result.ids.append(response.json()["id"])
                else:
                    result.errors[f"HTTP {response.status_code}"] += 1

        result.started = time.perf_counter()
        tasks = [asyncio.create_task(client_loop()) for _ in range(concurrency)]
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*tasks)
        except TimeoutError:
            result.timed_out = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if result.finished == 0.0:
            result.finished = time.perf_counter()
    return result
