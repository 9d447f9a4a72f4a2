"""Switchboard: an integration hub that receives, translates and delivers business messages."""

# The name to `pip install` ("switchboard" on PyPI is an unrelated project); the import
# packages stay `hub` and `connectors`, the command stays `hub`.
DISTRIBUTION = "switchboard-hub"
__version__ = "0.1.0"  # pyproject.toml reads it from here

__all__ = ["DISTRIBUTION", "__version__"]
