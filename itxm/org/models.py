"""The organisation: people, IT teams, suppliers, services, and the ITXM users who look at them.

Each model that holds scoped data declares ``scope_fields``: the lookups through which a supplier's
groups or a service owner's services reach it. ``itxm.org.scopes.Scope.apply`` reads them; a model
without the declaration is hidden from every restricted user.
"""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    TURKISH = "tr", _("Turkish")


class Department(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)

    scope_fields = {"group": None, "service": None}

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name


class Location(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166 code, e.g. TR"))
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    scope_fields = {"group": None, "service": None}

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self):
        return self.name


class Supplier(models.Model):
    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)

    scope_fields = {"group": "groups__id", "service": None}

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self):
        return self.name


class Group(models.Model):
    """An IT team or assignment group; a supplier may run it."""

    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="groups",
    )
    email = models.EmailField(_("e-mail"), blank=True)

    scope_fields = {"group": "id", "service": None}

    class Meta:
        ordering = ["name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")

    def __str__(self):
        return self.name


class Service(models.Model):
    """A business service as employees know it (e-mail, VPN, ERP...)."""

    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    scope_fields = {"group": None, "service": "id"}

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self):
        return self.name


class Category(models.Model):
    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="categories",
    )

    scope_fields = {"group": None, "service": "service_id"}

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name


class Employee(models.Model):
    """A person who uses IT and may be asked how it went."""

    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.SET_NULL
    )
    location = models.ForeignKey(Location, verbose_name=_("location"), null=True, blank=True, on_delete=models.SET_NULL)
    country = models.CharField(_("country"), max_length=2, blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)
    cost_per_hour = models.DecimalField(
        _("cost per hour"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    opted_out = models.BooleanField(_("opted out of surveys"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    # People are visible to admins and analysts only (see scopes.PERMISSIONS), never to restricted users.
    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["name"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        indexes = [models.Index(fields=["email"])]

    def __str__(self):
        return self.name


class Agent(models.Model):
    """A person in an IT team who works tickets."""

    external_id = models.CharField(_("external id"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    group = models.ForeignKey(
        Group,
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agents",
    )

    scope_fields = {"group": "group_id", "service": None}

    class Meta:
        ordering = ["name"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    ANALYST = "analyst", _("Analyst")
    SERVICE_OWNER = "service_owner", _("Service owner")
    SUPPLIER = "supplier", _("Supplier")
    VIEWER = "viewer", _("Viewer")


class User(AbstractUser):
    """Someone who signs in to ITXM. The role says what they may do, the scope what they may see."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    supplier = models.ForeignKey(
        Supplier,
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Required for supplier users: they see only this supplier's groups."),
    )
    services = models.ManyToManyField(
        Service,
        verbose_name=_("owned services"),
        blank=True,
        help_text=_("For service owners: they see only these services."),
    )
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)

    def save(self, *args, **kwargs):
        # The Django admin is for ITXM admins only; its flags follow the role.
        self.is_staff = self.is_superuser = self.role == Role.ADMIN
        super().save(*args, **kwargs)


def hash_token(secret: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough; argon2 would slow every API call.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """A machine's key to the API. Only its hash is stored; it acts as its user."""

    PREFIX = "itxm_"

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(_("key prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def issue(cls, user: User, name: str) -> tuple["ApiToken", str]:
        """Create a token and return it with its secret, which is shown once and never stored."""
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_prefix=secret[:12], key_hash=hash_token(secret))
        return token, secret

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
