"""The leader's screens (领导驾驶舱): pure functions building component trees."""
