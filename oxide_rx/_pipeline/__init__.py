"""The pipeline: push-style stages (decode -> accumulate), the chains assembled from them, and
the time-based operators. Knows the core and reactivex; no aiohttp, no I/O."""
