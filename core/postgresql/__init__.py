"""The project's PostgreSQL database backend (settings ENGINE "core.postgresql"); see base.py."""
