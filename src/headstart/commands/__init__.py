"""Sub-command groups of the ``headstart`` CLI, wired into ``headstart.cli``."""
