"""Tests of the audit log: format, chain, local and blob sinks, and the log/verify commands."""
