"""GLPI inventory JSON (the format of glpi-agent and GLPI's native inventory, `--json` output or the
files of `glpi-inventory`), imported as CIs without any option.

One document (`{"action": "inventory", "deviceid": ..., "itemtype": "Computer", "content": {...}}`) or
a list of them. The computer's `hardware.name` is the CI's name, `bios.ssn` its serial number; operating
system, manufacturer and model, CPU cores, memory and the non-loopback IP addresses become attributes;
its `softwares` become the CI's `software` list (installations, see contracts.software).
`itemtype` Computer → server (GLPI's other preset does the same), NetworkEquipment → network_device.
"""

from __future__ import annotations

import json
from typing import Any

from .report import Translation

ITEMTYPE_CLASSES = {"computer": "server", "networkequipment": "network_device", "printer": "network_device"}


def _is_inventory(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("content"), dict)
        and (document.get("action") == "inventory" or "deviceid" in document)
    )


def recognise_glpi_inventory(data: bytes | str, encoding: str) -> Translation | None:
    try:
        payload = json.loads(data.decode(encoding) if isinstance(data, bytes) else data)
    except (UnicodeDecodeError, LookupError, json.JSONDecodeError):
        return None
    documents = payload if isinstance(payload, list) else [payload]
    if not documents or not any(_is_inventory(document) for document in documents):
        return None
    out = Translation(format="GLPI inventory (JSON)", section="inventory")
    for number, document in enumerate(documents, start=1):
        if not _is_inventory(document):
            out.lines.append((number, "failed", "not a GLPI inventory document (no content)."))
            continue
        try:
            item = _computer(document)
        except ValueError as exc:
            out.lines.append((number, "failed", str(exc)))
            continue
        out.lines.append((number, "ci", len(out.cis)))
        out.cis.append(item)
    return out


def _computer(document: dict) -> dict[str, Any]:
    content = document["content"]
    hardware = content.get("hardware") or {}
    bios = content.get("bios") or {}
    name = str(hardware.get("name") or "").strip()
    if not name:
        raise ValueError("hardware.name: the inventory has no computer name.")
    itemtype = str(document.get("itemtype") or "Computer").lower()
    attributes: dict[str, Any] = {}
    system = content.get("operatingsystem") or {}
    if system.get("full_name") or system.get("name"):
        attributes["os"] = str(system.get("full_name") or system.get("name"))
    if bios.get("smanufacturer") or bios.get("mmanufacturer"):
        attributes["manufacturer"] = str(bios.get("smanufacturer") or bios.get("mmanufacturer"))
    if bios.get("smodel"):
        attributes["model"] = str(bios["smodel"])
    cores = sum(int(cpu.get("core") or 0) for cpu in content.get("cpus") or [] if isinstance(cpu, dict))
    if cores:
        attributes["cpu_count"] = cores
    memory_mb = hardware.get("memory")
    if isinstance(memory_mb, (int, float)) and memory_mb > 0:
        attributes["memory_gb"] = round(memory_mb / 1024, 1)
    addresses = []
    for network in content.get("networks") or []:
        address = (network or {}).get("ipaddress") if isinstance(network, dict) else None
        if address and not str(address).startswith("127.") and address not in addresses:
            addresses.append(str(address))
    if addresses:
        attributes["ip_addresses"] = addresses
    if document.get("deviceid"):
        attributes["glpi_deviceid"] = str(document["deviceid"])
    item: dict[str, Any] = {
        "name": name,
        "ci_class": ITEMTYPE_CLASSES.get(itemtype, "server"),
        "status": "in_service",
        "attributes": attributes,
    }
    if bios.get("ssn"):
        item["serial_number"] = str(bios["ssn"])
    if "softwares" in content:  # reconciled as the CI's installations by contracts.software
        item["software"] = content["softwares"]
    return item
