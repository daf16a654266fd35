"""The api-versions Microsoft.CognitiveServices accepts, and where its swagger slice is.

2025-09-01 is azure-mgmt-cognitiveservices 14.1.0's default and 2026-09-01 the latest stable (FACTS.md §1);
the older stable versions are those earlier SDK majors send (13.x sends 2024-10-01).
"""

from __future__ import annotations

from emulator.arm import swagger

NAMESPACE = "Microsoft.CognitiveServices"
API_VERSIONS = (
    "2026-09-01",
    "2026-03-01",
    "2025-09-01",
    "2025-06-01",
    "2024-10-01",
    "2023-05-01",
    "2022-12-01",
    "2022-10-01",
    "2022-03-01",
    "2021-10-01",
    "2021-04-30",
    "2017-04-18",
)
SLICE = "cognitiveservices/2025-09-01/cognitiveservices.slice.json"


def schema() -> swagger.Swagger:
    return swagger.load(SLICE)
