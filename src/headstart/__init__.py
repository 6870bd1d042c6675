"""Head Start: keep products buyable while their stock is still on the way."""

__version__ = "0.1.0"
