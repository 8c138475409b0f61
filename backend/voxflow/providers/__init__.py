"""Clients for the voice providers a tenant brings their own keys for: Groq (LLM), Deepgram
(speech to text and text to speech) and Twilio (telephony).

Each call takes the tenant's credentials, a base URL (the real API root, or a fake's in tests:
see voxflow.fakes) and an explicit timeout; it returns a small result dataclass carrying the
billable units and latency_ms, or raises ProviderError.
"""

from voxflow.providers.errors import ProviderError, ProviderErrorKind

__all__ = ["ProviderError", "ProviderErrorKind"]
