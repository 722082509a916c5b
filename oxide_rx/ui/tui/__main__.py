"""``python -m oxide_rx.ui.tui``: the same as ``oxide-rx tui``."""

from __future__ import annotations

import sys

from oxide_rx.cli import main

if __name__ == "__main__":
    sys.exit(main(["tui", *sys.argv[1:]]))
