"""What an import reads: our CI columns, the relationship columns, and the presets for other tools' exports."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import RelationshipType

CI_COLUMNS = (
    "name",
    "ci_class",
    "status",
    "environment",
    "owner",
    "support_group",
    "serial_number",
    "description",
)
RELATIONSHIP_COLUMNS = tuple(RelationshipType.values)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not JSON, no header...): nothing is imported."""


@dataclass(frozen=True)
class Preset:
    """How to read another tool's export: its column names, the class its rows are, and value maps."""

    mapping: dict[str, str]
    default_class: str = ""
    values: dict[str, dict[str, str]] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    # NetBox: DCIM → Devices → Export (the table's CSV, verbose headers) and the bulk-import field names.
    "netbox": Preset(
        mapping={
            "Name": "name",
            "name": "name",
            "Serial number": "serial_number",
            "Serial Number": "serial_number",
            "serial": "serial_number",
            "Status": "status",
            "status": "status",
            "Description": "description",
            "description": "description",
            "Platform": "attributes.os",
            "platform": "attributes.os",
            "Manufacturer": "attributes.manufacturer",
            "manufacturer": "attributes.manufacturer",
            "Type": "attributes.model",
            "Device Type": "attributes.model",
            "device_type": "attributes.model",
            "IP Address": "attributes.ip_addresses",
            "Primary IPv4": "attributes.ip_addresses",
            "primary_ip4": "attributes.ip_addresses",
            "Site": "attributes.site",
            "site": "attributes.site",
            "Rack": "attributes.rack",
            "rack": "attributes.rack",
            "Role": "attributes.role",
            "role": "attributes.role",
            "ID": "",
            "id": "",
        },
        default_class="server",
        values={
            "status": {
                "active": "in_service",
                "planned": "planned",
                "staged": "planned",
                "inventory": "planned",
                "failed": "maintenance",
                "offline": "maintenance",
                "decommissioning": "retired",
            }
        },
    ),
    # GLPI: Assets → Computers → export of the search results as CSV (";"-separated).
    "glpi": Preset(
        mapping={
            "Name": "name",
            "Serial number": "serial_number",
            "Status": "status",
            "Comments": "description",
            "Operating System - Name": "attributes.os",
            "Manufacturer": "attributes.manufacturer",
            "Model": "attributes.model",
            "Location": "attributes.location",
            "Inventory number": "attributes.inventory_number",
            "Entity": "attributes.entity",
            "ID": "",
            "Last update": "",
        },
        default_class="server",
        values={
            "status": {
                "in use": "in_service",
                "production": "in_service",
                "active": "in_service",
                "in stock": "planned",
                "stock": "planned",
                "new": "planned",
                "broken": "maintenance",
                "repair": "maintenance",
                "maintenance": "maintenance",
                "decommissioned": "retired",
                "retired": "retired",
                "disposed": "retired",
            }
        },
    ),
}
