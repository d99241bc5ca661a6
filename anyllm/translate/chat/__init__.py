"""The chat-completions bridge: Responses <-> OpenAI-style chat completions, as pure functions.

One module serves every chat-completions vendor (Mistral, llama.cpp, Together, Cerebras,
SambaNova, Perplexity, any OpenAI-compatible server). Where vendors differ on the wire, a
:class:`ChatDialect` row says how, with the evidence next to it; everything else is the
OpenAI chat shape.

Decisions (and why):

* Nothing is dropped silently: a Responses feature the target cannot express raises
  :class:`UnsupportedParameterError` naming it, before any network call.
* ``metadata`` and ``store`` describe the Responses object, which the library builds itself:
  they are echoed in the returned response (and ``store`` feeds the local response store),
  not sent to the provider.
* ``reasoning`` input items (a previous turn's thinking) have no counterpart in chat
  requests — providers that stream ``reasoning_content`` ask clients not to send it back —
  so they are left out of the provider request; their turn's messages and tool calls stay.
  So are other implementations' extension items (``anthropic:server_tool_use`` ...): the
  spec calls them "specific to that implementation and not assumed to be portable".
* ``developer`` messages become ``system`` messages: most OpenAI-compatible servers
  (llama.cpp, vLLM, Mistral) do not know the ``developer`` role.
* ``tool_choice`` ``allowed_tools`` is expressed by sending only the allowed tools with the
  chosen mode, which means the same thing on every server.
* Unknown keyword arguments (``responses(..., seed=1)``) go into the provider body as
  given: the caller asked for them by name. Mistral's ``seed`` is spelled ``random_seed``.
* A stream ends on ``finish_reason`` or ``data: [DONE]``; if the connection closes with
  neither, the response was cut short and :class:`StreamError` is raised. ``[DONE]`` with no
  finish reason (seen from real OpenAI-compatible gateways) counts as a normal end.

Modules: ``dialect`` (per-vendor differences), ``request``, ``response`` (whole replies and
the content shared with streams), ``stream`` and ``bridge`` (the :class:`ChatBridge` that
:class:`anyllm.providers.translated.TranslatedBackend` drives).
"""

from anyllm.translate.chat.bridge import ChatBridge
from anyllm.translate.chat.dialect import DIALECTS, ChatDialect, dialect_for
from anyllm.translate.chat.request import translate_request
from anyllm.translate.chat.response import apply_finish, chat_usage, error_from_chunk, translate_chat_response
from anyllm.translate.chat.stream import ChatStreamTranslator

__all__ = [
    "DIALECTS",
    "ChatBridge",
    "ChatDialect",
    "ChatStreamTranslator",
    "apply_finish",
    "chat_usage",
    "dialect_for",
    "error_from_chunk",
    "translate_chat_response",
    "translate_request",
]
