"""Moved to core.perf.field_cache (the fenced performance layer); kept importable for serializers that
name the old path."""

from core.perf.field_cache import PrebuiltFieldsMixin, copy_field  # noqa: F401
