"""Policies: CNN/GRU feature extractors, SB3 algorithms and heuristic baselines."""
