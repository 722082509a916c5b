"""Checked by mypy --strict in tests/test_typing_tui.py (never run): the types users see for
smooth, metrics and the plain iterators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import assert_type

from reactivex import Observable

import oxide_rx as ox


async def check(client: ox.OpenAI) -> None:
    stream = await client.chat.completions.create_stream(model="m", messages=[])
    smoothed = stream.events.pipe(ox.ops.of_type(ox.ContentDelta), ox.ops.smooth("line"))
    assert_type(smoothed, Observable[ox.ContentDelta])
    metrics = stream.metrics
    assert_type(metrics, ox.StreamMetrics)
    assert_type(metrics.time_to_first_token, float | None)
    assert_type(metrics.metrics(), ox.Metrics)
    assert_type(metrics.metrics().summary(), str)
    assert_type(stream.iter_text(), AsyncIterator[str])
    assert_type(ox.ui.iter_snapshots(stream), AsyncIterator[str])
