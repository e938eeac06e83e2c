"""Run event listeners, at Hatchet's ``clients.listeners`` path."""
