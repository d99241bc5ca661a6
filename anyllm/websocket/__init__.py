"""The Responses API over one persistent WebSocket (spec "WebSocket Transport", 2026-04-24).

API summary (``anyllm.responses_websocket`` / ``anyllm.aresponses_websocket`` are these)::

    with anyllm.responses_websocket("gpt-x", provider="openresponses",
                                    api_base="http://127.0.0.1:8000/v1") as session:
        turn = session.create("Find the bug", store=False, tools=[...])   # sends response.create now
        for event in turn:                    # the same typed events as responses(stream=True)
            print(event.type)
        turn.response                         # the terminal event's response (None until then)
        # continuation: previous_response_id of the prior turn is sent automatically,
        # with only the new items given here
        final = session.create([{"type": "function_call_output", "call_id": "c1",
                                 "output": "42"}]).drain()        # drain(): iterate, return response
        session.create([*anyllm.compacted_input(compacted), new_item],
                       previous_response_id=None)                  # a new chain after compact()

    async with anyllm.aresponses_websocket(model, provider=..., api_key=..., api_base=...,
                                           client_args=...) as session:
        turn = await session.create("hi")     # awaiting sends the message
        async for event in turn: ...
        await turn.drain()

- Connection: ``{api_base}/responses`` with ``http`` -> ``ws`` and ``https`` -> ``wss``, the
  provider's auth header and ``client_args['headers']``; the handshake is made on
  ``__enter__`` (a refused one raises the HTTP error class: 401 AuthenticationError, 404
  NotFoundError, ...; no server: ProviderConnectionError). Closed on exit.
- ``session.create(input_data, **params)`` takes every body parameter ``responses()``
  takes (same checks, same errors, before anything is sent) except ``stream``,
  ``stream_options`` and ``background``, which the spec forbids on WebSocket:
  InvalidRequestError naming it (``anyllm.websocket.frames.FORBIDDEN_FIELDS``).
  ``previous_response_id`` defaults to ``"auto"``: the id of the last completed or
  incomplete response of this session (``session.previous_response_id``; nothing on the
  first turn; a failed turn leaves it unchanged, so a retry continues from the same place);
  ``None`` starts a new chain (omitted from the message); a string is sent as given. The
  message sent is ``{"type": "response.create", "model": ..., **body}``.
- Events: openresponses-protocol providers yield openresponses-types streaming events
  (``anyllm.types``), openai-protocol providers the openai SDK's ``ResponseStreamEvent``
  models: exactly what HTTP streaming yields for that provider. A turn ends at its
  terminal event (``response.completed`` / ``incomplete`` / ``failed``; ``failed`` is
  yielded, then StreamError raised, as with SSE) or at an ``error`` envelope, which raises
  a typed error and is not yielded. (An ``error`` frame with a ``sequence_number`` and no
  ``status`` is the SSE ``error`` event, not an envelope: it is yielded and the turn goes on to its
  ``response.failed``.)
- One in-flight response per connection: ``create()`` while the previous turn has not
  reached its terminal event raises ``ResponseInFlightError`` (nothing is sent).
- Error envelope ``{"type": "error", "status", "error": {"code", "message", "param"}}``:
  ``previous_response_not_found`` -> ``PreviousResponseNotFoundError`` (a NotFoundError),
  ``websocket_connection_limit_reached`` -> ``WebSocketConnectionLimitReachedError`` (a
  ProviderConnectionError: the session sends nothing more, open a new one), anything else
  by ``status`` as for HTTP (400 InvalidRequestError, 429 RateLimitError, 5xx
  ProviderError, ...); ``status_code``, ``code``, ``param`` and ``body`` (the envelope)
  are set. A frame that is not JSON, or a
  connection closed mid-turn, raises StreamError; a closed connection between turns
  ProviderConnectionError.
- Timeouts: ``client_args['timeout']`` (default 600 s) is the handshake's deadline and each
  event's, as for HTTP streaming; past it, ProviderTimeoutError, and the connection is
  closed (the response it was waiting for may still be running on the server).
- Only native Responses providers (protocols ``openresponses`` and ``openai``); the others
  raise UnsupportedProviderError naming the provider, before any network call.
- ``session.frames``: every text frame of the connection so far, in order, as
  ``anyllm.websocket.frames.Frame(direction, at, text)``: direction ``"send"`` or ``"recv"``,
  ``at`` seconds since the connection opened (for recording; the key travels in a header,
  never in a frame). ``session.url`` is the WebSocket URL.
- ``anyllm.compact(model, input_data=None, *, provider, previous_response_id,
  instructions, prompt_cache_key, api_key, api_base, client_args, **kwargs)`` /
  ``acompact``: ``POST {api_base}/responses/compact`` (native providers only), returning
  ``openresponses_types.CompactResource`` (openresponses protocol) or the openai SDK's
  ``CompactedResponse`` (openai protocol); a 404 is NotFoundError as for any call.
  ``anyllm.compacted_input(result)``: its output as input item dicts.
- The loopback test server that follows these spec sections (a test helper, not part of
  the library): ``tests/helpers/ws_server.py`` (``SpecWebSocketServer``, fault switches in
  ``server.faults``).

``import anyllm`` does not import ``websockets``: it is imported when a session opens.
"""

from __future__ import annotations

from anyllm.websocket.open import aresponses_websocket, responses_websocket

__all__ = ["aresponses_websocket", "responses_websocket"]
