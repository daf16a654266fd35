"""Notifications: the engine, the Event Grid adapter against the emulator's topic, and a remediation whose
notification fails."""
