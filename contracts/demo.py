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
    if not Contract.objects.filter(name="Server support").exists():
        services.contract_create(
            actor=owner,
            fields={
                "name": "Server support",
                "vendor": vendors["Acme Hardware"],
                "type": "support",
                "start_date": today - datetime.timedelta(days=200),
                "end_date": today + datetime.timedelta(days=480),
                "cost": 12000,
                "currency": "EUR",
                "renewal": "manual",
                "notice_days": 60,
                "owner": owner,
            },
            configuration_items=[cis[name] for name in ("srv-db-01", "srv-esx-01") if name in cis],
        )
    if not Contract.objects.filter(name="vSphere subscription").exists():
        services.contract_create(
            actor=owner,
            fields={
                "name": "vSphere subscription",
                "vendor": vendors["VMware by Broadcom"],
                "type": "subscription",
                "start_date": today - datetime.timedelta(days=340),
                "end_date": today + datetime.timedelta(days=25),
                "cost": 4800,
                "currency": "EUR",
                "renewal": "auto",
                "notice_days": 30,
                "owner": owner,
            },
            configuration_items=[cis[name] for name in ("srv-esx-01",) if name in cis],
        )
    batch = SoftwareBatch(actor=owner, source=ChangeSource.SHELL)
    for name, packages in SOFTWARE.items():
        if name in cis:
            batch.add(
                0, "cis", cis[name], [{"name": n, "version": v, "publisher": p} for n, v, p in packages]
            )

    class _Quiet:
        """The import report the batch writes to; the demo data has nothing to report."""

        def add(self, *args, **kwargs) -> None:
            return None

    batch.flush(_Quiet())
    postgres = Software.objects.filter(
        key=software_key("PostgreSQL", "PostgreSQL Global Development Group")
    ).first()
    if postgres and not License.objects.filter(software=postgres).exists():
        services.license_save(
            actor=owner,
            fields={"software": postgres, "metric": "per_device", "quantity": 2},
            configuration_items=[cis["srv-db-01"]] if "srv-db-01" in cis else [],
        )
    zabbix = Software.objects.filter(key=software_key("Zabbix Agent", "Zabbix")).first()
    if zabbix and not License.objects.filter(software=zabbix).exists():
        services.license_save(actor=owner, fields={"software": zabbix, "metric": "per_device", "quantity": 1})
