"""``previous_response_id`` and ``store=True`` for providers that keep no state of their own.

The spec has a server given ``previous_response_id`` continue from the stored response.
Chat completions, Messages, generateContent, and a few native Responses servers (Groq's,
``ProviderMetadata.native_previous_response_id`` False) keep nothing, so the backend
(translated, openai or openresponses alike) does it here with :mod:`anyllm.store`: before
the call the stored conversation is put in front of the new input, after it a completed
or incomplete response is saved when the caller asked for ``store=True``. The provider
never sees ``previous_response_id`` or ``store``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from anyllm.request import ResponsesRequest
from anyllm.translate.base import input_items

if TYPE_CHECKING:
    from anyllm.store import ResponseStore

__all__ = ["LocalContext"]

# Request fields about server-side state: answered here, never sent to the provider.
_STATE_FIELDS = ("previous_response_id", "store")


class LocalContext:
    """One provider's view of the local response store (opened on first use).

    ``response_store`` in the client arguments picks the store: a ResponseStore, a path, or
    nothing for the default file in the user cache directory.
    """

    def __init__(self, provider: str, configured: Any = None) -> None:
        self.provider = provider
        self._configured = configured
        self._store: ResponseStore | None = None

    @property
    def store(self) -> ResponseStore:
        if self._store is None:
            from anyllm.store import ResponseStore  # sqlite3 is imported on first use only

            configured = self._configured
            self._store = configured if isinstance(configured, ResponseStore) else ResponseStore(configured)
        return self._store

    def close(self) -> None:
        """Close the store this context opened itself (a ResponseStore passed in ``response_store``
        belongs to the caller and stays open); it reopens on next use."""
        if self._store is not None and self._store is not self._configured:
            self._store.close()

    def with_context(self, request: ResponsesRequest) -> ResponsesRequest:
        """The request the provider sees: the stored conversation first, as the spec orders it,
        then the new input; no ``previous_response_id`` or ``store``."""
        body = request.body
        if not any(name in body for name in _STATE_FIELDS):
            return request
        full = {key: value for key, value in body.items() if key not in _STATE_FIELDS}
        previous = body.get("previous_response_id")
        if previous:
            full["input"] = self.store.context_for(previous) + input_items(body.get("input"))
        return request.with_body(full)

    @staticmethod
    def keeps(request: ResponsesRequest) -> bool:
        """Whether the caller asked to keep this call's response (``store=True``)."""
        return request.body.get("store") is True

    def remember(
        self,
        request: ResponsesRequest,
        *,
        response_id: str,
        status: Any,
        model: str,
        output: Sequence[Mapping[str, Any]],
    ) -> None:
        """Save a finished response under its id when the caller asked for ``store=True``.

        ``request`` is the caller's own (its input is this turn's, not the rebuilt context).
        """
        body = request.body
        if self.keeps(request) and status in ("completed", "incomplete"):
            self.store.save(
                response_id,
                input_items=input_items(body.get("input")),
                output_items=[dict(item) for item in output],
                provider=self.provider,
                model=model,
                previous_response_id=body.get("previous_response_id"),
            )

    def remember_typed(self, request: ResponsesRequest, response: Any) -> None:
        """:meth:`remember` for a typed response: the openai SDK's ``Response`` or
        openresponses-types' ``ResponseResource`` (pydantic models, dumped only when kept)."""
        if not self.keeps(request):
            return
        status = getattr(response.status, "value", response.status)
        self.remember(
            request,
            response_id=str(response.id),
            status=status,
            model=str(response.model),
            output=[item.model_dump(mode="json", exclude_none=True) for item in response.output],
        )
