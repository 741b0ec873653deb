"""The self-hosted web chat: a static server for the widget (web/) and its demo page."""
