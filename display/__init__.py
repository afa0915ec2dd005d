"""The customer's screen: view models (views.py), their wording (content.py, the one source of
every screen's words), screens (screens.py: how it looks, Frame.lines() the words drawn), devices."""
