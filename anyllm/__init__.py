"""anyllm: the OpenResponses API over every LLM provider, and a harness that proves it.

``import anyllm`` stays light: provider SDKs, httpx2 and the response types are imported
when a provider is first used.
"""

from anyllm.api import aresponses, responses
from anyllm.providers.registry import LLMProvider, ProviderMetadata, list_providers, provider_metadata

__all__ = [
    "LLMProvider",
    "ProviderMetadata",
    "__version__",
    "aresponses",
    "list_providers",
    "provider_metadata",
    "responses",
]

__version__ = "0.1.0"
