"""The ``http-pull`` poll source: read new records from a partner's REST collection.

Each poll GETs one page. Pagination follows the partner's style: a ``Link: rel="next"``
header, a cursor in the body, or page numbers. With a watermark (``since_param`` and
``watermark_path``, e.g. WooCommerce's ``modified_after`` and ``date_modified_gmt``) a
run asks only for records changed since the newest one the last run saw. The source's
cursor (kept by the hub with the records it stored) holds the watermark and the next
page, so a crash resumes at the page after the last one stored.

Each record's key is its id and its watermark value: a record read again (the watermark
is inclusive, or a crash repeated a page) is recognised by the hub and stored once, and
a record changed later is a new message. 429 and 503 honour ``Retry-After``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr, model_validator

from hub.sdk import (
    ConnectorContext,
    ConnectorOptions,
    ConnectorPlugin,
    Inbound,
    Poll,
    Polled,
    PollSource,
    RetriableSourceError,
    SourceError,
    redact,
    redact_url,
)
from hub.sdk.http import RETRIABLE, LazyClient, parse_retry_after

__all__ = ["HttpPullOptions", "HttpPullSource", "plugin"]


class HttpPullOptions(ConnectorOptions):
    url: str = Field(pattern=r"^https?://", description="the collection, e.g. .../orders")
    params: dict[str, str] = Field(default_factory=dict, description="query parameters to send")
    headers: dict[str, str] = Field(default_factory=dict)
    items_path: str = Field(
        "", description='dotted path of the record list in the body ("": the body is the list)'
    )
    id_path: str = Field("id", description="dotted path of a record's id")
    pagination: Literal["link", "cursor", "page", "none"] = Field(
        "link", description="how the partner pages: Link header, body cursor, page numbers"
    )
    next_cursor_path: str = Field(
        "next_cursor", description="cursor pagination: dotted path of the next cursor"
    )
    cursor_param: str = Field("cursor", description="cursor pagination: its query parameter")
    page_param: str = Field("page", description="page pagination: the page number parameter")
    first_page: int = Field(1, ge=0)
    page_size_param: str | None = Field(
        "per_page", description="query parameter for the page size (null: do not send)"
    )
    page_size: int = Field(100, ge=1, le=10_000)
    since_param: str | None = Field(
        None, description='query parameter for the watermark, e.g. "modified_after"'
    )
    watermark_path: str | None = Field(
        None, description='dotted path of a record\'s modification time, e.g. "date_modified_gmt"'
    )
    initial_since: str | None = Field(None, description="watermark of the very first run")
    bearer_token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    api_key_header: str | None = Field(None, description='e.g. "X-API-Key"')
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(30.0, gt=0, le=300)
    verify_tls: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> HttpPullOptions:
        auths = [
            self.bearer_token is not None,
            self.username is not None or self.password is not None,
            self.api_key is not None or self.api_key_header is not None,
        ]
        if sum(auths) > 1:
            raise ValueError("give one of bearer_token, username/password, api_key_header/api_key")
        if (self.username is None) != (self.password is None):
            raise ValueError("basic auth needs both username and password")
        if (self.api_key is None) != (self.api_key_header is None):
            raise ValueError("an API key needs both api_key_header and api_key")
        if (self.since_param is None) != (self.watermark_path is None):
            raise ValueError("a watermark needs both since_param and watermark_path")
        return self


class HttpPullSource(PollSource[HttpPullOptions]):
    options_model = HttpPullOptions

    def __init__(
        self, name: str, options: HttpPullOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        self._client = LazyClient(self._new_client)

    @property
    def client(self) -> httpx.Client:
        return self._client.get()

    def _new_client(self) -> httpx.Client:
        o = self.options
        headers = dict(o.headers)
        auth: httpx.Auth | None = None
        if o.bearer_token is not None:
            headers["Authorization"] = f"Bearer {o.bearer_token.get_secret_value()}"
        elif o.username is not None and o.password is not None:
            auth = httpx.BasicAuth(o.username, o.password.get_secret_value())
        elif o.api_key_header is not None and o.api_key is not None:
            headers[o.api_key_header] = o.api_key.get_secret_value()
        return httpx.Client(
            headers=headers,
            auth=auth,
            timeout=o.timeout_seconds,
            verify=o.verify_tls,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def poll(self, cursor: str | None, limit: int) -> Poll:
        o = self.options
        state = _load(cursor)
        since = state.get("since", o.initial_since)
        size = min(limit, o.page_size)
        if state.get("size") not in (None, size):  # pages of another size: start the run again
            state = {"since": since}
        url, params = self._request(state, since, size)
        response = self._get(url, params)
        try:
            body = response.json()
        except ValueError:
            raise SourceError(
                f"{redact_url(url)} answered {response.status_code} with a body that is not JSON",
                where=redact_url(url),
                hint="point `url` at the JSON collection",
            ) from None
        records = _at(body, o.items_path)
        if not isinstance(records, list):
            where = o.items_path or "(the body)"
            raise SourceError(
                f"{redact_url(url)}: `{where}` is a {type(records).__name__}, not a list",
                where=where,
                hint="set `items_path` to where the records are, e.g. data or orders",
            )
        items: list[Polled] = []
        newest = state.get("max")
        for index, record in enumerate(records):
            ident = _at(record, o.id_path)
            if ident is None:
                raise SourceError(
                    f"record {index} of {redact_url(url)} has no `{o.id_path}`",
                    where=f"{o.items_path or '(body)'}[{index}].{o.id_path}",
                    hint="set `id_path` to the field that identifies a record",
                )
            mark = _at(record, o.watermark_path) if o.watermark_path else None
            if mark is not None:
                newest = _newer(newest, mark)
            key = f"{ident}" if mark is None else f"{ident}@{mark}"
            items.append(
                Polled(
                    Inbound(
                        body=json.dumps(record, ensure_ascii=False).encode(),
                        headers={"source-url": redact_url(str(response.url))},
                        content_type="application/json",
                    ),
                    key=key,
                )
            )
        following = self._next(response, body, state, len(records), size)
        if following is not None:
            new_state = {"since": since, "next": following, "max": newest, "size": size}
        else:
            new_state = {"since": newest if newest is not None else since}
        return Poll(items, cursor=json.dumps(new_state), more=following is not None)

    def _request(self, state: dict[str, Any], since: Any, size: int) -> tuple[str, dict[str, str]]:
        o = self.options
        following = state.get("next")
        if o.pagination == "link" and following:
            return str(following), {}  # the partner's next URL carries every parameter
        params = dict(o.params)
        if o.page_size_param:
            params[o.page_size_param] = str(size)
        if o.since_param and since is not None:
            params[o.since_param] = str(since)
        if o.pagination == "cursor" and following:
            params[o.cursor_param] = str(following)
        if o.pagination == "page":
            params[o.page_param] = str(following if following else o.first_page)
        return o.url, params

    def _next(
        self, response: httpx.Response, body: Any, state: dict[str, Any], count: int, size: int
    ) -> str | int | None:
        o = self.options
        if o.pagination == "link":
            link = response.links.get("next", {}).get("url")
            return str(response.url.join(link)) if link else None
        if o.pagination == "cursor":
            token = _at(body, o.next_cursor_path)
            return str(token) if token not in (None, "") and count else None
        if o.pagination == "page":
            if count < size or count == 0:
                return None
            return int(state.get("next") or o.first_page) + 1
        return None

    def _get(self, url: str, params: dict[str, str]) -> httpx.Response:
        shown = redact_url(url)
        try:
            # params replace the query of a URL in httpx: a next link keeps its own
            response = self.client.get(url, params=params or None)
        except httpx.TimeoutException:
            raise RetriableSourceError(
                f"{shown} did not answer within {self.options.timeout_seconds:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise RetriableSourceError(
                f"cannot reach {shown}: {redact(str(exc) or type(exc).__name__)}"
            ) from None
        status = response.status_code
        if status < 300:
            return response
        said = redact(response.text[:200].strip())
        if status in RETRIABLE:
            raise RetriableSourceError(
                f"{shown} answered {status}: {said}",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        hint = (
            "check the credentials in the source's options"
            if status in (401, 403)
            else "check the url and params in the source's options"
        )
        raise SourceError(f"{shown} answered {status}: {said}", where=shown, hint=hint)


def _load(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _at(value: Any, path: str | None) -> Any:
    """The value at a dotted path (``data.items``, ``customer.id``); None when absent."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _newer(current: Any, candidate: Any) -> Any:
    """The later of two watermarks (ISO 8601 strings compare as text, numbers as numbers)."""
    if current is None:
        return candidate
    try:
        return candidate if candidate > current else current
    except TypeError:
        return candidate if str(candidate) > str(current) else current


plugin = ConnectorPlugin(
    name="http-pull",
    description="poll a partner's REST collection with pagination and a modified-since mark",
    source=HttpPullSource,
)
