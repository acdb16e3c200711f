"""Q&Aid's shared core: small, torch-free and Rasa-free, imported by both interpreters (3.10 and 3.11)."""
