"""The HTTP server: app factory, thin handlers, and the relays that talk to upstreams."""
