"""Switchboard: an integration hub that receives, translates and delivers business messages."""

__version__ = "0.1.0"

__all__ = ["__version__"]
