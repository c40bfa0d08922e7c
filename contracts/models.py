"""Vendors, contracts on CIs, software, installations and licenses (SPEC §8).

Written only through contracts.services (contracts, vendors, licenses) and contracts.software (the
installations the CMDB import reconciles), which write the contract history and the CI history explicitly.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from core.numbering import number_field

from .choices import ContractEventKind, ContractType, LicenseMetric, NoticeStage, Renewal

NUMBER_PREFIX = "CTR"


class Vendor(models.Model):
    """A third party: who sells, maintains or supports something we run, and how to reach its support."""

    name = models.CharField(max_length=200, unique=True)
    website = models.URLField(blank=True)
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=50, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def support_contact(self) -> str:
        return ", ".join(part for part in (self.support_phone, self.support_email) if part)


class Contract(models.Model):
    """A contract with a vendor covering CIs, numbered CTR0000001 from a database sequence."""

    number = number_field(NUMBER_PREFIX)
    name = models.CharField(max_length=200)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="contracts")
    type = models.CharField(max_length=20, choices=ContractType.choices, default=ContractType.SUPPORT)
    start_date = models.DateField()
    end_date = models.DateField()
    cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    renewal = models.CharField(max_length=10, choices=Renewal.choices, default=Renewal.MANUAL)
    notice_days = models.PositiveIntegerField(default=30)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="contracts"
    )
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem", blank=True, related_name="contracts"
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["end_date", "number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="ctr_dates"
            ),
        ]
        indexes = [
            # ?expiring_within= and the notice sweep are ranges on end_date.
            models.Index(fields=["end_date"], name="ctr_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("contract-detail", kwargs={"number": self.number})


class ContractEvent(models.Model):
    """One entry of a contract's history timeline (created, changed, renewed, notices sent)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=ContractEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["contract", "-created_at"], name="ctrevent_contract_idx")]


class ContractNotice(models.Model):
    """A notice sent for one term of a contract: the unique row is what makes it exactly once, even when
    two beats overlap or a worker retries (a renewal moves end_date, so the new term gets its own)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="notices")
    stage = models.CharField(max_length=10, choices=NoticeStage.choices)
    end_date = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contract", "stage", "end_date"], name="ctrnotice_once"),
        ]


class Software(models.Model):
    """A software title of the catalog; `key` is the normalised (name, publisher) imports match on."""

    name = models.CharField(max_length=200)
    publisher = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=420, unique=True, editable=False)
    # The distinct CIs with a current installation of the title: what a per-device license consumes.
    # Kept by contracts.software in the transaction that starts or ends installations (and by cmdb's
    # delete_ci), so the compliance report reads 5,000 numbers instead of counting 2,000,000 rows;
    # `software.usage_drift()` recounts them (`manage.py check_software_usage`).
    installed_cis = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "publisher"]
        verbose_name_plural = "software"

    def __str__(self) -> str:
        return f"{self.name} ({self.publisher})" if self.publisher else self.name

    def get_absolute_url(self) -> str:
        return reverse("software-detail", kwargs={"pk": self.pk})


class Installation(models.Model):
    """Software (at a normalised version) found on a CI by an import. An installation no longer reported
    is ended (`ended_at`), not deleted, so the history shows when it went."""

    ci = models.ForeignKey("cmdb.ConfigurationItem", on_delete=models.CASCADE, related_name="installations")
    software = models.ForeignKey(Software, on_delete=models.CASCADE, related_name="installations")
    version = models.CharField(max_length=100, blank=True)
    installed_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["software_id", "ci_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ci", "software", "version"],
                condition=models.Q(ended_at__isnull=True),
                name="install_unique_current",
            ),
        ]
        indexes = [
            # Compliance counts the distinct CIs of one title's current installations: index-only.
            models.Index(
                fields=["software", "ci"], condition=models.Q(ended_at__isnull=True), name="install_sw_ci_idx"
            ),
        ]


class License(models.Model):
    """Seats of one software title, per device or per user, optionally bought under a contract."""

    software = models.ForeignKey(Software, on_delete=models.PROTECT, related_name="licenses")
    metric = models.CharField(max_length=20, choices=LicenseMetric.choices, default=LicenseMetric.PER_DEVICE)
    quantity = models.PositiveIntegerField(default=0)
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="licenses"
    )
    configuration_items = models.ManyToManyField(
        "cmdb.ConfigurationItem", blank=True, related_name="licenses"
    )
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="licenses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["software_id", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.software} ({self.get_metric_display()})"
