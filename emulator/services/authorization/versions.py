"""The api-versions Microsoft.Authorization accepts here, and where its swagger slice is.

2022-04-01 is what azure-mgmt-authorization 4.0.0 sends for role assignments and role definitions; the
older versions are the other ones that SDK can be pinned to for those two operation groups. One shape, the
2022-04-01 slice's, is served whatever the version.
"""

from __future__ import annotations

from emulator.arm import swagger

NAMESPACE = "Microsoft.Authorization"
ASSIGNMENTS_TYPE = f"{NAMESPACE}/roleAssignments"
DEFINITIONS_TYPE = f"{NAMESPACE}/roleDefinitions"
ASSIGNMENT_VERSIONS = (
    "2022-04-01",
    "2020-10-01-preview",
    "2020-04-01-preview",
    "2018-09-01-preview",
    "2018-01-01-preview",
    "2015-07-01",
)
DEFINITION_VERSIONS = ("2022-05-01-preview", "2022-04-01", "2018-01-01-preview", "2015-07-01")
SLICE = "authorization/2022-04-01/authorization-RoleAssignmentsCalls.json"


def schema() -> swagger.Swagger:
    return swagger.load(SLICE)
