"""The api-versions the Resource Graph query route accepts and the columns of its `Resources` table.

azure-mgmt-resourcegraph 8.0.1 sends 2021-03-01 unless told otherwise; 2024-04-01 is the newest stable (the
vendored tests/fixtures/reference/resourcegraph/2024-04-01/ slice); 2022-10-01 is the stable between them.
"""

from __future__ import annotations

NAMESPACE = "Microsoft.ResourceGraph"
VERSIONS = ("2024-04-01", "2022-10-01", "2021-03-01")
TABLES = ("Resources", "resources")
# The `Resources` columns a query may name; Kusto names are case-sensitive.
COLUMNS = (
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
)
# When the request's options carry no `$top`. EMULATOR ASSUMPTION: the vendored swagger gives no default page
# size (only `$top`'s 1..1000 range); 100 is what the emulator uses.
DEFAULT_TOP = 100
MAX_TOP = 1000
