"""Demo CMDB for `make run`: the "Online shop" business service and what it stands on.

Online shop depends_on Shop web app, which runs_on vm-shop-01, which runs_on srv-esx-01; the app also
depends_on the shopdb database, which runs_on srv-db-01; both servers are connected_to sw-core-01.
Idempotent: CIs are found by (class, name) first and relationships by their unique edge.
"""

from .models import ChangeSource, CIClass, ConfigurationItem, Relationship
from .services import add_relationship, create_ci

CIS = [
    # (key, class, name, support group, attributes)
    ("shop", "business_service", "Online shop", "service-desk", {"service_level": "gold"}),
    (
        "app",
        "application",
        "Shop web app",
        "service-desk",
        {"version": "4.2", "url": "https://shop.example.com"},
    ),
    ("vm", "virtual_machine", "vm-shop-01", "network", {"cpu_count": 4, "memory_gb": 16, "os": "Debian 12"}),
    ("esx", "server", "srv-esx-01", "network", {"cpu_count": 64, "memory_gb": 512, "os": "ESXi 8"}),
    ("db", "database", "shopdb", "database", {"engine": "PostgreSQL", "version": "16", "port": 5432}),
    ("dbsrv", "server", "srv-db-01", "database", {"cpu_count": 16, "memory_gb": 128, "os": "Debian 12"}),
    ("switch", "network_device", "sw-core-01", "network", {"vendor": "Arista", "model": "7050X3"}),
]
EDGES = [
    ("shop", "depends_on", "app"),
    ("app", "runs_on", "vm"),
    ("vm", "runs_on", "esx"),
    ("app", "depends_on", "db"),
    ("db", "runs_on", "dbsrv"),
    ("esx", "connected_to", "switch"),
    ("dbsrv", "connected_to", "switch"),
]


def load(*, users, groups) -> None:
    owner = users.get("chris")
    classes = {c.name: c for c in CIClass.objects.all()}
    cis = {}
    for key, class_name, name, group, attributes in CIS:
        found = ConfigurationItem.objects.filter(ci_class=classes[class_name], name=name).first()
        cis[key] = found or create_ci(
            actor=owner,
            fields={
                "name": name,
                "ci_class": classes[class_name],
                "support_group": groups.get(group),
                "owner": owner,
                "attributes": attributes,
            },
            source=ChangeSource.SHELL,
        )
    for source, rel_type, target in EDGES:
        if not Relationship.objects.filter(source=cis[source], target=cis[target], type=rel_type).exists():
            add_relationship(actor=owner, source=cis[source], target=cis[target], type=rel_type)
