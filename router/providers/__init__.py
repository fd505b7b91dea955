"""Upstream providers: endpoint, credentials, quirks as data, and one pooled HTTP client each."""
