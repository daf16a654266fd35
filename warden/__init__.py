"""warden: event-driven drift detection and auto-remediation for Azure OpenAI accounts."""

__version__ = "0.1.0"
