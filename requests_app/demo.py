"""Demo catalog: a Laptop (manager approval, two tasks) and VPN access (no approval). Idempotent."""

from .models import CatalogCategory, CatalogItem, CatalogTaskTemplate, CatalogVariable


def load(*, users, groups) -> None:
    hardware, _ = CatalogCategory.objects.get_or_create(
        name="Hardware",
        defaults={"icon": "device-laptop", "description": "Laptops, screens, phones", "order": 10},
    )
    access, _ = CatalogCategory.objects.get_or_create(
        name="Access", defaults={"icon": "key", "description": "Accounts and network access", "order": 20}
    )
    laptop, created = CatalogItem.objects.get_or_create(
        name="Laptop",
        defaults={
            "category": hardware,
            "icon": "device-laptop",
            "description": "A new or replacement laptop, prepared and handed over by the service desk.",
            "approval": "manager",
            "fulfillment_group": groups["service-desk"],
        },
    )
    if created:
        CatalogVariable.objects.bulk_create(
            [
                CatalogVariable(
                    item=laptop,
                    name="model",
                    label="Model",
                    type="choice",
                    required=True,
                    choices=['Standard 14"', 'Developer 16"', 'Ultralight 13"'],
                    order=10,
                ),
                CatalogVariable(
                    item=laptop,
                    name="justification",
                    label="Justification",
                    type="text",
                    required=True,
                    help_text="Why do you need it?",
                    order=20,
                ),
                CatalogVariable(
                    item=laptop,
                    name="needed_by",
                    label="Needed by",
                    type="date",
                    required=True,
                    order=30,
                ),
            ]
        )
        CatalogTaskTemplate.objects.bulk_create(
            [
                CatalogTaskTemplate(
                    item=laptop,
                    short_description="Prepare laptop",
                    assignment_group=groups["service-desk"],
                    order=10,
                ),
                CatalogTaskTemplate(
                    item=laptop,
                    short_description="Hand over",
                    assignment_group=groups["service-desk"],
                    order=20,
                ),
            ]
        )
    vpn, created = CatalogItem.objects.get_or_create(
        name="VPN access",
        defaults={
            "category": access,
            "icon": "shield-lock",
            "description": "Remote access to the company network.",
            "approval": "none",
            "fulfillment_group": groups["network"],
        },
    )
    if created:
        CatalogVariable.objects.create(
            item=vpn,
            name="reason",
            label="What do you need to reach?",
            type="textarea",
            required=True,
            order=10,
        )
        CatalogTaskTemplate.objects.create(
            item=vpn, short_description="Grant VPN access", assignment_group=groups["network"], order=10
        )
