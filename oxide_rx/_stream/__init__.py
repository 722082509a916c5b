"""Streams: lifetime and pump (:mod:`.lifetime`, :mod:`.pump`), fan-out with the subscriber
error policy (:mod:`.fanout`), the one push-to-pull inbox (:mod:`.inbox`), the two stream
classes (:mod:`.streams`) and the public sources (:mod:`.sources`)."""
