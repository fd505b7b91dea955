"""ccr: a router that lets Claude Code work through any model provider."""

__version__ = "0.1.0"
