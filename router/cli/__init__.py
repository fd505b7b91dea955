"""The `ccr` command. Modules here import nothing heavy at the top: only `ccr start` loads the server."""
