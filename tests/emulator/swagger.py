"""Validate emulator responses against the upstream swagger slice (the code lives in emulator.arm.swagger, which
the emulator also uses at run time to validate write bodies)."""

from emulator.arm.swagger import COMMON_TYPES, Swagger

__all__ = ["COMMON_TYPES", "Swagger"]
