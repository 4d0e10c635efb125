"""The Discord adapter: discord.py 2.x (application commands, persistent
components, modals, Guild Scheduled Events), plugged in as ``convene.plugins``
``discord``."""
