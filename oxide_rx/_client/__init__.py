"""The client: :class:`~oxide_rx.OpenAI`, its chat and Responses resources, and the Responses
WebSocket session. Resources receive the transport's requester, never the client."""
