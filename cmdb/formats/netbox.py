"""NetBox CSV exports, imported as they are: sites, devices, interfaces, IP addresses and cables.

NetBox's list views export CSV ("Export → Current view" or "All data") with the table's column titles as
the header; its bulk-import files use field names (`device_role`, `side_a_device`...). Both are
recognised: a header is normalised (case, `_`) and matched against the columns each kind must have.

What each kind becomes:
- sites → CIs of class `location` (created on first use), facility, region, time zone and address as
  attributes;
- devices → CIs whose class comes from the device role (ROLE_CLASSES: routers, switches, firewalls...
  are network devices, storage roles are storage, anything else a server); role, manufacturer, model,
  platform, site, rack and primary IPs (`primary_ipv4`, `primary_ipv6`) as attributes; a site imported earlier `contains` the device;
- interfaces and IP addresses → attributes of their device, not CIs of their own: a CMDB tracks what
  can fail and what depends on what, and an interface or an address is a property of the device (a
  switch with 48 ports would otherwise become 49 CIs). Interfaces land as `interfaces` (a list of
  {name, type, enabled, mac_address, description}), addresses as `ip_addresses`. Each file holds the
  whole list of a device, so importing it again replaces that device's list (and changes nothing when
  nothing changed);
- cables → `connected_to` relationships between the two devices (visible in the impact graph). NetBox's
  default cable view has no device columns ("Termination A" holds only the port names): export cables
  with "All data" (or add the Device A / Device B columns); a row without them fails and says so.
A row that cannot be used fails alone, with the reason, in the per-row report; `row` is the file's line.
"""

from __future__ import annotations

import csv
import io
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cmdb.models import CIClass, ConfigurationItem

from .report import Translation

DEVICE_CLASSES = ("server", "network_device", "storage", "virtual_machine")
LOCATION_CLASS = "location"
LOCATION_SCHEMA = {
    "type": "object",
    "properties": {
        "facility": {"type": "string"},
        "region": {"type": "string"},
        "time_zone": {"type": "string"},
        "physical_address": {"type": "string"},
    },
}
# Words in a NetBox device role (its name or slug) → our CI class; the first match wins, else server.
ROLE_CLASSES = (
    (("router", "switch", "firewall", "access point", "access-point", "wireless", "load balancer",
      "load-balancer", "gateway", "spine", "leaf", "patch panel", "patch-panel", "console", "modem",
      "network", "pdu"), "network_device"),
    (("storage", "san", "nas", "array", "backup"), "storage"),
)  # fmt: skip
STATUS = {
    "active": "in_service",
    "connected": "in_service",
    "planned": "planned",
    "staged": "planned",
    "staging": "planned",
    "inventory": "planned",
    "failed": "maintenance",
    "offline": "maintenance",
    "decommissioning": "retired",
    "retired": "retired",
}
# Normalised header → our key. Verbose titles of NetBox tables and its bulk-import field names.
ALIASES = {
    "device role": "role",
    "device type": "type",
    "serial number": "serial",
    "primary ip": "ip address",
    "primary ipv4": "primary ipv4",
    "primary ip4": "primary ipv4",
    "primary ipv6": "primary ipv6",
    "primary ip6": "primary ipv6",
    "address": "ip address",
    "device/vm": "device",
    "parent": "device",
    "assigned object parent": "device",
    "assigned object": "interface",
    "mac address": "mac address",
    "side a device": "device a",
    "side b device": "device b",
    "side a name": "termination a",
    "side b name": "termination b",
    "time zone": "time zone",
}


def _norm(header: str) -> str:
    key = " ".join(header.replace("\ufeff", "").replace("_", " ").strip().lower().split())
    return ALIASES.get(key, key)


@dataclass(frozen=True)
class Kind:
    label: str
    section: str
    required: tuple[str, ...]
    any_of: tuple[str, ...]
    forbidden: tuple[str, ...]
    translate: Callable[[list[tuple[int, dict[str, str]]]], Translation]


def recognise_netbox_csv(data: bytes | str, encoding: str) -> Translation | None:
    """The file translated, if its header is one of NetBox's five exports; else None."""
    if isinstance(data, bytes):
        try:
            data = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            return None
    reader = csv.reader(io.StringIO(data.lstrip("\ufeff")))
    header = next(reader, None)
    if not header:
        return None
    columns = [_norm(h) for h in header]
    present = set(columns)
    for kind in KINDS:
        if (
            set(kind.required) <= present
            and (not kind.any_of or present & set(kind.any_of))
            and not present & set(kind.forbidden)
        ):
            rows = []
            for line, cells in enumerate(reader, start=2):
                if not any(cell.strip() for cell in cells):
                    continue
                rows.append(
                    (
                        line,
                        {col: (cells[i].strip() if i < len(cells) else "") for i, col in enumerate(columns)},
                    )
                )
            return kind.translate(rows)
    return None


def _status(value: str) -> str:
    return STATUS.get(value.strip().lower(), "in_service")


def _class_for_role(role: str) -> str:
    text = " ".join(role.strip().lower().replace("-", " ").replace("_", " ").split())
    words = text.split()
    for keywords, class_name in ROLE_CLASSES:
        for keyword in keywords:
            if keyword in words or (" " in keyword or len(keyword) > 3) and keyword in text:
                return class_name
    return "server"


def _host(address: str) -> str | None:
    """`10.0.0.5/24` → `10.0.0.5`; None when it is not an address."""
    try:
        return str(ipaddress.ip_interface(address.strip()).ip)
    except ValueError:
        return None


def _attrs(values: dict[str, str], pairs: dict[str, str]) -> dict[str, Any]:
    return {ours: values[theirs] for theirs, ours in pairs.items() if values.get(theirs)}


# ---- sites -------------------------------------------------------------------------------------------


def _ensure_location_class() -> None:
    CIClass.objects.get_or_create(
        name=LOCATION_CLASS, defaults={"label": "Location", "attribute_schema": LOCATION_SCHEMA}
    )


def _sites(rows) -> Translation:
    out = Translation(format="NetBox sites (CSV)", section="sites", prepare=_ensure_location_class)
    for line, values in rows:
        if not values.get("name"):
            out.lines.append((line, "failed", "name: a site needs a name."))
            continue
        attributes = _attrs(
            values,
            {"facility": "facility", "region": "region", "time zone": "time_zone", "physical address": "physical_address",
             "group": "site_group", "tenant": "tenant"},
        )  # fmt: skip
        out.lines.append((line, "ci", len(out.cis)))
        out.cis.append(
            {
                "name": values["name"],
                "ci_class": LOCATION_CLASS,
                "status": _status(values.get("status", "")),
                "description": values.get("description", ""),
                "attributes": attributes,
            }
        )
    return out


# ---- devices -----------------------------------------------------------------------------------------


def _devices(rows) -> Translation:
    out = Translation(format="NetBox devices (CSV)", section="devices")
    sites = set(
        ConfigurationItem.objects.filter(
            ci_class__name=LOCATION_CLASS, name__in={v.get("site", "") for _, v in rows}
        ).values_list("name", flat=True)
    )
    for line, values in rows:
        name = values.get("name", "")
        if not name:
            out.lines.append(
                (line, "failed", "name: an unnamed device cannot be told apart; name it in NetBox.")
            )
            continue
        if not values.get("role"):
            out.lines.append((line, "failed", "role: the device has no role, so its CI class is unknown."))
            continue
        class_name = _class_for_role(values["role"])
        attributes = _attrs(
            values,
            {"role": "role", "manufacturer": "manufacturer", "type": "model", "platform": "os", "site": "site",
             "location": "location", "rack": "rack", "tenant": "tenant", "asset tag": "asset_tag"},
        )  # fmt: skip
        problem = None
        for column in ("ip address", "primary ipv4", "primary ipv6"):
            if not values.get(column):
                continue
            host = _host(values[column])
            if host is None:
                problem = f"{column}: {values[column]!r} is not an IP address."
                break
            attributes["primary_ipv6" if ":" in host else "primary_ipv4"] = host
        if problem:
            out.lines.append((line, "failed", problem))
            continue
        item = {
            "name": name,
            "ci_class": class_name,
            "status": _status(values.get("status", "")),
            "description": values.get("description", ""),
            "attributes": attributes,
        }
        if values.get("serial"):
            item["serial_number"] = values["serial"]
        out.lines.append((line, "ci", len(out.cis)))
        out.cis.append(item)
        if values.get("site") in sites:
            out.relationships.append(
                {
                    "source": f"{LOCATION_CLASS}:{values['site']}",
                    "target": f"{class_name}:{name}",
                    "type": "contains",
                }
            )
    return out


# ---- interfaces and IP addresses: attributes of their device ------------------------------------------


def _device_classes(names: set[str]) -> dict[str, list[str]]:
    """Device name → the classes of the CIs of that name (more than one: ambiguous)."""
    found: dict[str, list[str]] = {}
    for name, class_name in ConfigurationItem.objects.filter(
        name__in=names, ci_class__name__in=DEVICE_CLASSES
    ).values_list("name", "ci_class__name"):
        found.setdefault(name, []).append(class_name)
    return found


def _per_device(
    rows, out: Translation, attribute: str, entry: Callable[[dict[str, str]], Any]
) -> Translation:
    """Collect each device's entries from its rows into one update of `attribute`; every row of a device
    reports that update's outcome."""
    classes = _device_classes({v.get("device", "") for _, v in rows})
    index: dict[str, int] = {}
    for line, values in rows:
        device = values.get("device", "")
        if not device:
            out.lines.append((line, "skipped", "assigned to no device"))
            continue
        found = classes.get(device, [])
        if len(found) != 1:
            reason = (
                f"device: no device named {device!r} in the CMDB (import the devices first)."
                if not found
                else f"device: {device!r} is ambiguous ({', '.join(sorted(found))})."
            )
            out.lines.append((line, "failed", reason))
            continue
        try:
            value = entry(values)
        except ValueError as exc:
            out.lines.append((line, "failed", str(exc)))
            continue
        if device not in index:
            index[device] = len(out.cis)
            out.cis.append({"name": device, "ci_class": found[0], "attributes": {attribute: []}})
        values_list = out.cis[index[device]]["attributes"][attribute]
        if value not in values_list:
            values_list.append(value)
        out.lines.append((line, "ci", index[device]))
    return out


def _interface(values: dict[str, str]) -> dict[str, Any]:
    if not values.get("name"):
        raise ValueError("name: an interface needs a name.")
    enabled = values.get("enabled", "").strip().lower()
    item: dict[str, Any] = {"name": values["name"]}
    if enabled:
        item["enabled"] = enabled in ("true", "yes", "1", "✔")
    for theirs, ours in (("type", "type"), ("mac address", "mac_address"), ("description", "description"),
                         ("label", "label")):  # fmt: skip
        if values.get(theirs):
            item[ours] = values[theirs]
    return item


def _interfaces(rows) -> Translation:
    return _per_device(
        rows, Translation(format="NetBox interfaces (CSV)", section="interfaces"), "interfaces", _interface
    )


def _address(values: dict[str, str]) -> str:
    host = _host(values.get("ip address", ""))
    if host is None:
        raise ValueError(f"ip address: {values.get('ip address')!r} is not an IP address.")
    return host


def _ip_addresses(rows) -> Translation:
    return _per_device(
        rows,
        Translation(format="NetBox IP addresses (CSV)", section="ip_addresses"),
        "ip_addresses",
        _address,
    )


# ---- cables ------------------------------------------------------------------------------------------


def _cables(rows) -> Translation:
    out = Translation(format="NetBox cables (CSV)", section="cables")
    names = {v.get(side, "") for _, v in rows for side in ("device a", "device b")}
    classes = _device_classes({part.strip() for name in names for part in name.split(",")})
    for line, values in rows:
        ends = []
        for side in ("a", "b"):
            devices = {part.strip() for part in values.get(f"device {side}", "").split(",") if part.strip()}
            ends.append(devices)
        if not ends[0] or not ends[1]:
            if "device a" not in values:
                reason = "no Device A / Device B columns: export the cables with “All data” in NetBox."
                out.lines.append((line, "failed", reason))
            else:
                out.lines.append((line, "skipped", "not between two devices (a circuit or power feed end)"))
            continue
        problem = None
        refs = []
        for devices in ends:
            device = sorted(devices)[0]
            found = classes.get(device, [])
            if len(devices) > 1:
                problem = f"a cable end spans several devices ({', '.join(sorted(devices))})."
            elif len(found) != 1:
                problem = (
                    f"device: no device named {device!r} in the CMDB (import the devices first)."
                    if not found
                    else f"device: {device!r} is ambiguous."
                )
            refs.append(f"{found[0]}:{device}" if len(found) == 1 else "")
        if problem:
            out.lines.append((line, "failed", problem))
            continue
        out.lines.append((line, "rel", len(out.relationships)))
        out.relationships.append({"source": refs[0], "target": refs[1], "type": "connected_to"})
    return out


KINDS = (
    Kind("cables", "cables", ("termination a", "termination b"), (), (), _cables),
    Kind("ip addresses", "ip_addresses", ("ip address",), ("assigned", "vrf", "dns name", "interface", "device"),
         ("name", "role serial"), _ip_addresses),
    Kind("interfaces", "interfaces", ("device", "name"), ("enabled", "type", "mac address", "mgmt only", "lag"),
         ("role",), _interfaces),
    Kind("devices", "devices", ("name",), ("role",), ("device",), _devices),
    Kind("sites", "sites", ("name",), ("facility", "slug", "time zone", "physical address", "asns"),
         ("role", "device"), _sites),
)  # fmt: skip
