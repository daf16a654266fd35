"""The api-version Microsoft.Insights diagnostic settings accept here, their type names, and their swagger slices.

2021-05-01-preview is what azure-mgmt-monitor 6.0.2 sends for `diagnostic_settings` and
`diagnostic_settings_category`, and the only version of the vendored specs
(tests/fixtures/reference/monitor/2021-05-01-preview/).
"""

from __future__ import annotations

from emulator.arm import swagger

NAMESPACE = "Microsoft.Insights"
SETTINGS_TYPE = f"{NAMESPACE}/diagnosticSettings"
# The category resources' type as the upstream listDiagnosticSettingsCategories example spells it.
CATEGORIES_TYPE = "microsoft.insights/diagnosticSettingsCategories"
VERSIONS = ("2021-05-01-preview",)
SETTINGS_SLICE = "monitor/2021-05-01-preview/diagnosticsSettings_API.json"
CATEGORIES_SLICE = "monitor/2021-05-01-preview/diagnosticsSettingsCategories_API.json"


def settings_schema() -> swagger.Swagger:
    return swagger.load(SETTINGS_SLICE)


def categories_schema() -> swagger.Swagger:
    return swagger.load(CATEGORIES_SLICE)
