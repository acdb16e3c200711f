"""What a hospital runs: its models over HTTP (``app``) and the inbox that receives transcripts (``inbox``)."""
