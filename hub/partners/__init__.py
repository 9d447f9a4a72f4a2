"""Trading partners: inbound routing by envelope, duplicate interchanges, automatic
acknowledgements, outgoing envelopes with control numbers, and acknowledgements received.

This layer sits beside the pipeline: it reads envelopes with the formats, keeps numbers and
interchanges in the store, and is used by the ingestor, the route builder and the worker.
"""

from hub.partners.directory import PartnerDirectory, UnknownPartner
from hub.partners.received import Received, read_received

__all__ = ["PartnerDirectory", "Received", "UnknownPartner", "read_received"]
