"""Synthetic history of closed shipments (issue 3), drawn from PARAMETERS.md's figures."""

from headstart.sim.history.conditions import REGIMES
from headstart.sim.history.generator import (
    HistorySummary,
    SyntheticHistory,
    generate_history,
    synthesize_history,
)
from headstart.sim.history.parameters import DEFAULTS, GeneratorParameters, Parameter

__all__ = [
    "DEFAULTS",
    "REGIMES",
    "GeneratorParameters",
    "HistorySummary",
    "Parameter",
    "SyntheticHistory",
    "generate_history",
    "synthesize_history",
]
