"""Detectors: one module per control, each a pure function of a frozen snapshot."""
