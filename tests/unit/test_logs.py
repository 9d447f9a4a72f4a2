"""Log records as text or JSON lines, with the message they are about; quiet libraries."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from hub.logs import CHATTY_LOGGERS, configure_logging, message_context


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back after each test.

    An earlier test may have run uvicorn with its own logging config, which gives uvicorn
    and uvicorn.access handlers of their own and stops propagation; the ``hub`` command
    never does (log_config=None), so the libraries' loggers start here as they do there.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = {".".join(name.split(".")[:n]) for name in CHATTY_LOGGERS for n in (1, 2)}
    chatty = [logging.getLogger(name) for name in sorted(names)]  # with parents (uvicorn)
    saved = [(lg.level, list(lg.handlers), lg.propagate) for lg in chatty]
    for lg in chatty:
        lg.handlers[:] = []
        lg.propagate = True
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for lg, (old_level, old_handlers, propagate) in zip(chatty, saved, strict=True):
        lg.setLevel(old_level)
        lg.handlers[:] = old_handlers
        lg.propagate = propagate


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_the_message_from_the_context_or_extra() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    log = logging.getLogger("hub.test")
    with message_context("m-1", "shop-orders", "727"):
        log.warning("dead-lettered at %s", "validate")
    log.info("stored", extra={"message_id": "m-2", "route": "shop-orders"})
    log.info("no message here")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    first, second, third, fourth = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "dead-lettered at validate"
    assert first["level"] == "WARNING"
    assert first["logger"] == "hub.test"
    assert first["time"].endswith("+00:00")
    assert (first["message_id"], first["route"], first["correlation_key"]) == (
        "m-1",
        "shop-orders",
        "727",
    )
    assert (second["message_id"], second["route"]) == ("m-2", "shop-orders")
    assert "correlation_key" not in second
    assert "message_id" not in third  # the context ended with its block
    assert "ValueError: boom" in fourth["exception"]


@pytest.mark.usefixtures("restore_logging")
def test_text_lines_end_with_the_message_fields() -> None:
    out = io.StringIO()
    configure_logging("DEBUG", "text", stream=out)
    with message_context("m-1", "shop-orders"):
        logging.getLogger("hub.test").debug("delivered")
    line = out.getvalue().strip()
    assert line.endswith("DEBUG hub.test: delivered [message_id=m-1 route=shop-orders]")


@pytest.mark.usefixtures("restore_logging")
def test_chatty_libraries_stay_at_warning_unless_debug() -> None:
    out = io.StringIO()
    configure_logging("INFO", "text", stream=out)
    for name in ("uvicorn.access", "apscheduler.scheduler", "httpx"):
        logging.getLogger(name).info("one line per request")
        logging.getLogger(name).warning("worth seeing")
    logging.getLogger("hub.worker").info("the hub's own")
    text = out.getvalue()
    assert "one line per request" not in text
    assert text.count("worth seeing") == 3
    assert "the hub's own" in text
    configure_logging("DEBUG", "text", stream=out)
    logging.getLogger("uvicorn.access").info("now shown")
    assert "now shown" in out.getvalue()
    configure_logging("ERROR", "text", stream=out)
    assert logging.getLogger("httpx").level == logging.ERROR


@pytest.mark.usefixtures("restore_logging")
def test_configuring_again_replaces_only_its_own_handler() -> None:
    other = logging.NullHandler()
    logging.getLogger().addHandler(other)
    configure_logging("INFO", "text", stream=io.StringIO())
    configure_logging("INFO", "json", stream=io.StringIO())
    handlers = logging.getLogger().handlers
    assert other in handlers
    assert sum(1 for h in handlers if type(h).__name__ == "_HubHandler") == 1


def test_an_unknown_level_or_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level 'LOUD'"):
        configure_logging("LOUD")
    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        configure_logging("INFO", "xml")  # type: ignore[arg-type]


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_password_in_a_url_is_never_logged(log_format: str) -> None:
    out = io.StringIO()
    configure_logging("INFO", log_format, stream=out)  # type: ignore[arg-type]
    log = logging.getLogger("hub.test")
    log.warning("cannot reach %s", "http://erp:s3cr3t-pw@erp.example.com/orders")
    try:
        raise ConnectionError("refused by https://erp:s3cr3t-pw@erp.example.com")
    except ConnectionError:
        log.exception("failed")
    text = out.getvalue()
    assert "s3cr3t-pw" not in text
    assert "erp:***@erp.example.com" in text
