"""anyllm: the OpenResponses API over every LLM provider, and a harness that proves it.

``import anyllm`` stays light: provider SDKs, httpx2 and the response types are imported
when a provider is first used.
"""

from anyllm.api import aresponses, responses
from anyllm.compact import acompact, compact, compacted_input
from anyllm.lifecycle import aclose, close, closing
from anyllm.output_text import output_text
from anyllm.providers.registry import LLMProvider, ProviderMetadata, list_providers, provider_metadata
from anyllm.websocket import aresponses_websocket, responses_websocket

__all__ = [
    "LLMProvider",
    "ProviderMetadata",
    "__version__",
    "aclose",
    "acompact",
    "aresponses",
    "aresponses_websocket",
    "close",
    "closing",
    "compact",
    "compacted_input",
    "list_providers",
    "output_text",
    "provider_metadata",
    "responses",
    "responses_websocket",
]

__version__ = "0.1.0"
