"""Remediators: one module per action kind; planning is pure, applying goes through a port."""
