"""Behaviour of the leader's screens."""
