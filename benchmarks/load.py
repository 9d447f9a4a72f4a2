"""A closed-loop load generator: C clients, each POSTing its next body as soon as the last returns.

Two client implementations share one event loop and the same accounting:

``raw`` (default)
    HTTP/1.1 keep-alive over asyncio streams, one connection per client. It costs
    about 0.2 ms of CPU per request, so on a 2-core machine the server, not the
    client, is what gets measured.
``httpx``
    ``httpx.AsyncClient`` with C pooled connections. About 2 ms of CPU per request
    here: it saturates a core at a few hundred requests/s, below the floor's rate.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import httpx

__all__ = ["CLIENTS", "ClientKind", "LoadResult", "Percentiles", "percentiles", "post_all"]

ClientKind = Literal["raw", "httpx"]
CLIENTS: tuple[ClientKind, ...] = ("raw", "httpx")
JSON_HEADERS = {"content-type": "application/json"}


@dataclass
class LoadResult:
    """What one load run saw from the client side."""

    client: str = "raw"
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

    def record(self, status: int, payload: bytes, took: float) -> None:
        self.finished = time.perf_counter()
        if status == 202:
            self.accepted += 1
            self.latencies.append(took)
            self.ids.append(json.loads(payload)["id"])
        else:
            self.errors[f"HTTP {status}"] += 1


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
    client: ClientKind = "raw",
    request_timeout: float = 30.0,
) -> LoadResult:
    """POST every body once with ``concurrency`` clients; stop after ``timeout`` seconds."""
    result = LoadResult(client=client)
    queue = iter(range(len(bodies)))  # one event loop: the clients share it without a lock
    if client == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=base_url, limits=limits, timeout=request_timeout, trust_env=False
        ) as pool:

            def one() -> Awaitable[None]:
                return _httpx_loop(pool, path, bodies, queue, result)

            await _run(one, concurrency, timeout, result)
    else:
        url = urlsplit(base_url)
        host, port = url.hostname or "127.0.0.1", url.port or 80

        def one() -> Awaitable[None]:
            return _raw_loop(host, port, path, bodies, queue, result, request_timeout)

        await _run(one, concurrency, timeout, result)
    return result


async def _run(
    make: Callable[[], Awaitable[None]], concurrency: int, timeout: float, result: LoadResult
) -> None:
    result.started = time.perf_counter()
    tasks = [asyncio.ensure_future(make()) for _ in range(concurrency)]
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


async def _httpx_loop(
    pool: httpx.AsyncClient,
    path: str,
    bodies: Sequence[bytes],
    queue: Iterator[int],
    result: LoadResult,
) -> None:
    for index in queue:
        result.sent += 1
        begun = time.perf_counter()
        try:
            response = await pool.post(path, content=bodies[index], headers=JSON_HEADERS)
        except httpx.HTTPError as exc:
            result.errors[type(exc).__name__] += 1
            continue
        result.record(response.status_code, response.content, time.perf_counter() - begun)


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends a POST and reads a sized response."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise ConnectionError("chunked responses are not expected here")
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        payload = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _raw_loop(
    host: str,
    port: int,
    path: str,
    bodies: Sequence[bytes],
    queue: Iterator[int],
    result: LoadResult,
    request_timeout: float,
) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
    ).encode("ascii")
    conn = _Connection(host, port)
    try:
        for index in queue:
            result.sent += 1
            begun = time.perf_counter()
            try:
                async with asyncio.timeout(request_timeout):
                    status, payload = await conn.post(head, bodies[index])
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                result.errors[type(exc).__name__] += 1
                conn.close()
                continue
            except TimeoutError:
                result.errors["TimeoutError"] += 1
                conn.close()
                continue
            result.record(status, payload, time.perf_counter() - begun)
    finally:
        conn.close()
