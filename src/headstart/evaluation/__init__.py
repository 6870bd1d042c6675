"""Honest evaluation of in-stock estimates: a live replay of history beside baselines (issue 3)."""
