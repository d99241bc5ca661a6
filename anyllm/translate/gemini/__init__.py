"""The Gemini bridge: Responses <-> Google Gemini ``generateContent`` (``v1beta``, ``x-goog-api-key``).

Pure functions: a Responses request body in, a GenerateContentRequest out; a
GenerateContentResponse (whole, or one SSE chunk at a time from
``streamGenerateContent?alt=sse``) in, ``ResponseStreamBuilder`` calls out.
Modules: ``request`` (top-level fields, tools, generation config; its docstring lists the
request decisions), ``contents`` (input items), ``response`` (replies and chunks; the
response decisions), ``stream``, ``common`` and ``bridge`` (the :class:`GeminiBridge` that
:class:`anyllm.providers.translated.TranslatedBackend` drives).
"""

from anyllm.translate.gemini.bridge import GeminiBridge, model_path
from anyllm.translate.gemini.common import SIGNATURE_PREFIX
from anyllm.translate.gemini.request import EFFORT_BUDGETS, translate_request
from anyllm.translate.gemini.response import translate_response
from anyllm.translate.gemini.stream import GeminiStreamTranslator

__all__ = [
    "EFFORT_BUDGETS",
    "SIGNATURE_PREFIX",
    "GeminiBridge",
    "GeminiStreamTranslator",
    "model_path",
    "translate_request",
    "translate_response",
]
