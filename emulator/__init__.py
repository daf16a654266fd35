"""A local Azure Resource Manager emulator for Microsoft.CognitiveServices (tests, demo, benchmarks).

See docs/emulator.md for the scenario format, routes and faults.
"""

from .model import RecordedRequest
from .server import Emulator

__all__ = ["Emulator", "RecordedRequest"]
