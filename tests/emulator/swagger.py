"""Validate emulator responses against the upstream swagger slice (the code lives in emulator.swagger, which
the emulator also uses at run time to validate write bodies)."""

from emulator.swagger import COMMON_TYPES, Swagger

__all__ = ["COMMON_TYPES", "Swagger"]
