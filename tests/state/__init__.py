"""Tests of the shared state store on Azure Blob Storage (leases, etags), against Azurite."""
