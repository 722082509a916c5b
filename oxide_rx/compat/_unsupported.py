"""What the compat layer does not cover fails loudly, naming the missing piece.

>>> error = refuse("client.files", "files")
>>> isinstance(error, NotImplementedError), str(error).split(" (")[0]
(True, 'oxide_rx.compat does not implement client.files')
"""

from __future__ import annotations

__all__ = ["NotSupportedError", "refuse"]

HINT = ("(see the README's compat coverage list); use the official `openai` package for it, "
        "or the oxide_rx client")


class NotSupportedError(NotImplementedError, AttributeError):
    """A part of the official surface the compat layer does not implement.

    Also an ``AttributeError``, so ``hasattr(client, "files")`` is simply ``False``.
    """


def refuse(what: str, name: str) -> AttributeError:
    """The error for an attribute lookup of ``name``: private names are plain misses."""
    if name.startswith("_"):
        return AttributeError(name)
    return NotSupportedError(f"oxide_rx.compat does not implement {what} {HINT}")
