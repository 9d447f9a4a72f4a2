"""A pytest plugin, loaded through the ``pytest11`` entry point before any test module.

It registers :mod:`hub.sdk.testing` for assertion rewriting, so a connector's failing
contract test says what differed (``assert [b'x'] == [b'y']`` and a diff), not a bare
``AssertionError``. Pytest marks an installed plugin's packages for rewriting by itself only
when it can see their files: not for an editable install (``pip install -e``), the usual way
a connector author installs the hub. Registering the module by name covers both.
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("hub.sdk.testing")
