"""Adapters: the only package that imports Azure SDKs; SDK models become warden types here."""
