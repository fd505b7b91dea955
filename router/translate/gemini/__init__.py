"""Gemini (Google AI Studio and Vertex AI) in both directions: request.py writes a GenerateContentRequest,
stream.py and response.py read Gemini's answers back as Anthropic messages, schema.py cleans tool schemas,
signatures.py carries thought signatures through Claude Code, vertex.py finds Vertex endpoints and tokens."""
