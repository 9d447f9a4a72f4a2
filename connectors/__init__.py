"""Built-in connector plugins. Each sees only :mod:`hub.sdk`, like a third-party one."""
