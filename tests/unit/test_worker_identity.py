"""Which lease holders the worker may free at start-up without waiting for expiry."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from hub.delivery.worker import holder_is_dead

HOST = socket.gethostname()
ME = f"{HOST}:{os.getpid()}:aaaa1111"


def test_its_own_threads_are_alive() -> None:
    assert not holder_is_dead(f"{ME}/0", ME)


def test_same_pid_with_another_identity_is_an_earlier_life() -> None:
    assert holder_is_dead(f"{HOST}:{os.getpid()}:bbbb2222/0", ME)


def test_a_finished_process_is_dead_and_a_running_one_is_not() -> None:
    done = subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert done.returncode == 0
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        assert not holder_is_dead(f"{HOST}:{child.pid}:cccc/0", ME)
    finally:
        child.kill()
        child.wait()
    assert holder_is_dead(f"{HOST}:{child.pid}:cccc/0", ME)


def test_other_hosts_and_odd_names_are_left_to_lease_expiry() -> None:
    assert not holder_is_dead("elsewhere:1:dddd/0", ME)
    assert not holder_is_dead("garbage", ME)
