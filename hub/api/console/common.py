"""What every console page shares: rendering, the security headers, the reader gate,
and the refusals a page answers with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.api.console.session import Signed, signed_in
from hub.credentials import READ
from hub.runtime import Hub

__all__ = [
    "HINTS",
    "bad_form",
    "hub_of",
    "page",
    "reader",
    "refused",
    "to_login",
]

HERE = Path(__file__).parent
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

#: Scripts, styles and images from the hub itself only (no inline script), forms and fetches
#: only to the hub itself, no framing.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

#: What an operator can do about an error, by the type the pipeline stored.
HINTS = {
    "decode_error": "the body is not valid in the route's input format: ask the sender to "
    "resend, or discard it",
    "validation_error": "the document breaks the route's schema: fix the mapping or schema, "
    "then replay with the current mapping",
    "mapping_error": "the mapping failed on this document: fix the mapping, preview the "
    "replay, then replay",
    "delivery_fatal": "the sink refused the message: fix the cause on its side, then replay",
    "delivery_retriable": "every retry failed: check the sink is reachable, then replay",
    "encode_error": "the output cannot be written in the sink format: fix the mapping, then replay",
    "limit_exceeded": "the document went past a limit of the route: raise it or discard",
}


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates.get_template(name).render(**context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = _POLICY
    response.headers["Cache-Control"] = "no-store"
    return response


def to_login() -> Response:
    return RedirectResponse("/ui/login", status_code=303)


async def reader(request: Request) -> Signed | Response:
    """The signed-in user if they may read; else the sign-in page or the refusal to show."""
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    if not signed.caller.may(READ):
        return refused(signed, READ)
    return signed


def refused(signed: Signed, scope: str) -> HTMLResponse:
    return page(
        "error.html",
        403,
        signed=signed,
        title="Not allowed",
        message=f"{signed.caller.name!r} lacks scope {scope}",
        hint=f"sign in as a user or with a key holding {scope} (`hub users create --scope "
        f"{scope}`, `hub keys create --scope {scope}`)",
    )


def bad_form(signed: Signed) -> HTMLResponse:
    return page(
        "error.html",
        400,
        signed=signed,
        title="Form refused",
        message="the form is missing its CSRF token, is stale or too large",
        hint="reload the page and send the form again",
    )
