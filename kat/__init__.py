"""Pure helpers shared by the Rasa components, the actions and the scripts.

Nothing in this package imports Rasa or rasa_sdk; everything reads the reviewed content
files under ``content/`` and is unit-tested on its own.
"""
