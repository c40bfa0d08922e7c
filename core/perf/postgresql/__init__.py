"""The project's PostgreSQL database backend (settings ENGINE "core.perf.postgresql"); see base.py."""
