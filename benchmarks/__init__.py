"""Benchmarks: the hub's ingest and end-to-end rates against a bare FastAPI + SQLite floor.

Run with ``make bench`` (``python -m benchmarks``); see docs/benchmarks.md.
"""
