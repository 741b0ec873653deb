"""Custom Rasa input channels: Rasa's own, plus the checks a clinic needs.

Every incoming webhook is authenticated before it reaches the assistant.
"""
