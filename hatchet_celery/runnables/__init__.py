"""Declarations: workflows, standalone tasks, task nodes and their option types."""
