"""The sans-IO core: accumulators, text buffers, partial JSON, structured-output schemas.

Nothing here does I/O or imports asyncio, aiohttp or reactivex: feed it decoded wire objects
(from SSE, a WebSocket, a recording or a test list) and it returns typed events.
"""
