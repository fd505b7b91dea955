"""The Anthropic wire format as ccr speaks it to clients: errors and server-sent events."""
