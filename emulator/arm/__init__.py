"""Generic Azure Resource Manager behaviour: ids at any scope, validation and merge from the swagger, etags,
paging, long-running operations, auth, api-versions, throttling headers and ARM errors.

Resource providers (`emulator/services/...`) plug in by declaring a `Provider` (arm/types.py); nothing in
this package names a provider.
"""
