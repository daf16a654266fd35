"""Telemetry (docs/telemetry.md): names, the OpenTelemetry adapter, the workbook, the cold start."""
