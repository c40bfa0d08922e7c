"""Demo vendors, contracts, software and licenses for `make run` (idempotent): the two demo servers are
covered by an Acme support contract, a VMware subscription enters its notice period soon, and the
servers' software (as an import would bring it) leaves PostgreSQL licensed and the monitoring agent short.
"""

import datetime

from django.utils import timezone

from cmdb.models import ChangeSource, ConfigurationItem

from . import services
from .models import Contract, License, Software, Vendor
from .software import SoftwareBatch, software_key

VENDORS = [
    ("Acme Hardware", "https://acme.example.com", "support@acme.example.com", "+1 555 0100"),
    ("VMware by Broadcom", "https://www.vmware.com", "support@vmware.example.com", "+1 555 0199"),
]
SOFTWARE = {
    "srv-db-01": [
        ("PostgreSQL", "16.4", "PostgreSQL Global Development Group"),
        ("Zabbix Agent", "7.0", "Zabbix"),
    ],
    "srv-esx-01": [("VMware ESXi", "8.0.2", "VMware"), ("Zabbix Agent", "7.0", "Zabbix")],
    "vm-shop-01": [("nginx", "1.24", "F5"), ("Zabbix Agent", "6.4", "Zabbix")],
}


# (name, vendor, type, days since the start, days to the end, cost, renewal, notice days, covered CIs)
CONTRACTS = [
    (
        "Server support",
        "Acme Hardware",
        "support",
        200,
        480,
        12000,
        "manual",
        60,
        ("srv-db-01", "srv-esx-01"),
    ),
    (
        "vSphere subscription",
        "VMware by Broadcom",
        "subscription",
        340,
        25,
        4800,
        "auto",
        30,
        ("srv-esx-01",),
    ),
]
# (software, publisher, seats per device, CIs the seats are assigned to)
LICENSES = [
    ("PostgreSQL", "PostgreSQL Global Development Group", 2, ("srv-db-01",)),
    ("Zabbix Agent", "Zabbix", 1, ()),
]


class _Quiet:
    """The import report the software batch writes to; the demo data has nothing to report."""

    def add(self, *args, **kwargs) -> None:
        return None


def load(*, users, groups) -> None:
    owner = users.get("chris")
    vendors = {}
    for name, website, email, phone in VENDORS:
        vendors[name] = Vendor.objects.filter(name=name).first() or services.vendor_save(
            actor=owner,
            fields={"name": name, "website": website, "support_email": email, "support_phone": phone},
        )
    cis = {ci.name: ci for ci in ConfigurationItem.objects.filter(name__in=list(SOFTWARE))}
    today = timezone.localdate()
    for name, vendor, kind, since, left, cost, renewal, notice, covered in CONTRACTS:
        if Contract.objects.filter(name=name).exists():
            continue
        services.contract_create(
            actor=owner,
            fields={
                "name": name,
                "vendor": vendors[vendor],
                "type": kind,
                "start_date": today - datetime.timedelta(days=since),
                "end_date": today + datetime.timedelta(days=left),
                "cost": cost,
                "currency": "EUR",
                "renewal": renewal,
                "notice_days": notice,
                "owner": owner,
            },
            configuration_items=[cis[ci] for ci in covered if ci in cis],
        )
    batch = SoftwareBatch(actor=owner, source=ChangeSource.SHELL)
    for name, packages in SOFTWARE.items():
        if name in cis:
            batch.add(
                0, "cis", cis[name], [{"name": n, "version": v, "publisher": p} for n, v, p in packages]
            )
    batch.flush(_Quiet())
    for title, publisher, seats, assigned in LICENSES:
        software = Software.objects.filter(key=software_key(title, publisher)).first()
        if software and not License.objects.filter(software=software).exists():
            services.license_save(
                actor=owner,
                fields={"software": software, "metric": "per_device", "quantity": seats},
                configuration_items=[cis[ci] for ci in assigned if ci in cis],
            )
