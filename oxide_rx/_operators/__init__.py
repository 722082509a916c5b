"""Implementations behind the public operators in :mod:`oxide_rx.operators`."""
