"""The CI classes SPEC §3 requires, with a starting attribute schema each (admins can extend them)."""

from .models import CIClass

DEFAULT_CLASSES = {
    "business_service": (
        "Business service",
        {
            "type": "object",
            "properties": {"service_level": {"type": "string"}, "business_owner": {"type": "string"}},
        },
    ),
    "application": (
        "Application",
        {
            "type": "object",
            "properties": {
                "version": {"type": "string"},
                "url": {"type": "string"},
                "vendor": {"type": "string"},
            },
        },
    ),
    "database": (
        "Database",
        {
            "type": "object",
            "properties": {
                "engine": {"type": "string"},
                "version": {"type": "string"},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            },
        },
    ),
    "server": (
        "Server",
        {
            "type": "object",
            "properties": {
                "cpu_count": {"type": "integer", "minimum": 1},
                "memory_gb": {"type": "number", "minimum": 0},
                "os": {"type": "string"},
                "ip_addresses": {"type": "array", "items": {"type": "string"}},
            },
        },
    ),
    "virtual_machine": (
        "Virtual machine",
        {
            "type": "object",
            "properties": {
                "cpu_count": {"type": "integer", "minimum": 1},
                "memory_gb": {"type": "number", "minimum": 0},
                "os": {"type": "string"},
                "ip_addresses": {"type": "array", "items": {"type": "string"}},
            },
        },
    ),
    "network_device": (
        "Network device",
        {
            "type": "object",
            "properties": {
                "vendor": {"type": "string"},
                "model": {"type": "string"},
                "management_ip": {"type": "string"},
            },
        },
    ),
    "storage": (
        "Storage",
        {
            "type": "object",
            "properties": {"capacity_tb": {"type": "number", "minimum": 0}, "vendor": {"type": "string"}},
        },
    ),
}


def ensure_default_classes() -> None:
    """Create any missing default class (migration 0002 does it; a flushed test database needs them back)."""
    for name, (label, schema) in DEFAULT_CLASSES.items():
        CIClass.objects.get_or_create(name=name, defaults={"label": label, "attribute_schema": schema})
