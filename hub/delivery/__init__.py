"""Delivery: retry policy, the processor of one message, and the background worker."""

from hub.delivery.retry import RetryPolicy

__all__ = ["RetryPolicy"]
