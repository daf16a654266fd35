"""A local Azure emulator (tests, demo, benchmarks): a kernel, the generic ARM plane, and one package per
service. See docs/emulator.md for the layout, the scenario format, routes and faults.
"""

from .facade import Emulator
from .kernel.http import RecordedRequest

__all__ = ["Emulator", "RecordedRequest"]
