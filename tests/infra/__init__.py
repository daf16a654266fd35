"""Tests of infra/: the Bicep parses and passes checkov, and what it grants, delivers and sets is derived from
the controls and the settings code; the azd hooks."""
