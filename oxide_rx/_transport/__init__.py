"""HTTP and WebSocket transport: sessions, retries, timeouts, error mapping."""
