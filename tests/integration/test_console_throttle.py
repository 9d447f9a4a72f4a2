"""Console sign-in over a real server: failed sign-ins lock the address (and the name) for
a while, answered 429 with Retry-After, without checking the password, and counted."""

from __future__ import annotations

from pathlib import Path

import httpx

from hub.api import create_app
from hub.api.console.throttle import SignInThrottle
from hub.runtime import Hub
from tests.configs import demo_config, write_config
from tests.peers import serve_app

SECRET = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failed_sign_ins_lock_the_address_for_a_while(tmp_path: Path) -> None:
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path)))
    hub.users.create("dana", SECRET, ["read"])
    _, key = hub.keys.create("ci", ["read"])
    app = create_app(hub)
    clock = Clock()
    app.state.sign_in_throttle = SignInThrottle(failures=3, window=600, clock=clock)

    def throttled() -> float | None:
        return hub.metrics.registry.get_sample_value(
            "hub_auth_failures_total", {"reason": "throttled"}
        )

    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as ui:
        for at in (0, 100, 200):
            clock.now = at
            wrong = ui.post("/ui/login", data={"user": "dana", "password": "guess guess guess"})
            assert wrong.status_code == 401
        # the right password is not even checked now, and the answer says so and until when
        locked = ui.post("/ui/login", data={"user": "dana", "password": SECRET})
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "400"  # the failure at 0 leaves at 600
        assert "too many failed sign-ins" in locked.text
        assert "try again in 7 minutes" in locked.text
        assert "set-cookie" not in locked.headers
        assert throttled() == 1
        # the address is locked for a key too
        assert ui.post("/ui/login", data={"key": key}).status_code == 429
        assert throttled() == 2

        clock.now = 600  # the first failure has left the window
        signed = ui.post("/ui/login", data={"user": "dana", "password": SECRET})
        assert signed.status_code == 303, signed.text
        # the address's two failures still in the window stay: one more and it is locked
        ui.cookies.clear()
        assert ui.post("/ui/login", data={"key": "sb_wrong"}).status_code == 401
        again = ui.post("/ui/login", data={"key": key})
        assert again.status_code == 429
        assert again.headers["retry-after"] == "100"  # until the failure at 100 leaves
        clock.now = 700
        assert ui.post("/ui/login", data={"key": key}).status_code == 303
