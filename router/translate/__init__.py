"""Translators, one module per upstream wire format. Translation knows nothing of routing."""
