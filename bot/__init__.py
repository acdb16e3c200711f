"""Code that runs inside (or starts) the Rasa server: custom NLU components, the spaCy pipeline builder and the CLI."""
