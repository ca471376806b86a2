"""The web side: the web chat HTTP API (and, later, the widget and agent console)."""
