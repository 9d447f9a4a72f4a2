"""The route pipeline: build routes from config, ingest requests, translate messages."""

from hub.pipeline.build import CompiledRoute, build_routes
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.pipeline.translate import Translation, Translator

__all__ = [
    "CompiledRoute",
    "IngestResult",
    "Ingestor",
    "Translation",
    "Translator",
    "build_routes",
]
