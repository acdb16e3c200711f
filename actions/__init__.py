"""The rasa-sdk action server: thin actions over the image intake, hospital and transcript services."""
