"""Derandomized Hypothesis runs that do not depend on which tests were collected.

Hypothesis draws some values from the constants of the project's modules loaded at
the time ("local constants"). A derandomized state machine therefore replays other
sequences when the tests collected beside it import other modules: run alone, the HTTP
model test reached revisions; in the full tier, which imports the simulator, it
reached none. Importing all of ``headstart`` first makes the sequences depend on the
source alone.
"""

from __future__ import annotations

import importlib
import pkgutil

import headstart


def load_every_module() -> None:
    """Import every module of ``headstart``."""
    for module in pkgutil.walk_packages(headstart.__path__, "headstart."):
        importlib.import_module(module.name)
