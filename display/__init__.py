"""The customer's screen: view models (what to say), screens (how it looks), devices."""
