"""Settings: for administrators, what is configured and what needs attention, with the way into the admin.

Every setting is edited in the Django admin; this page counts them, lists the connectors with their last
sync, and warns about what would quietly go wrong (a failing connector, a supplier user without supplier).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, OuterRef, Q, Subquery
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from itxm.devices.models import EnrolmentCode
from itxm.org import queries as org
from itxm.org.models import ApiToken, Role, User
from itxm.org.scopes import Permission
from itxm.surveys.models import Factor, FatigueRule, SurveyTemplate
from itxm.tickets.models import BusinessCalendar, Connector, SlaDefinition, SyncRun, SyncStatus
from itxm.web import sharing
from itxm.web.models import ReportSubscription
from itxm.web.pages import reader_scope

# A connector that has not synced for this many of its intervals is probably not being run by the worker.
LATE_INTERVALS = 3


@dataclass
class Section:
    key: str
    title: str
    note: str
    counts: list[tuple[str, int]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


@require_GET
def settings_hub(request):
    scope = reader_scope(request)
    if not scope.allows(Permission.MANAGE_USERS):
        return render(request, "web/settings/forbidden.html", status=403)
    now = timezone.now()
    users = _users()
    connectors = _connectors(now)
    sections = [
        _section("users", _("Users, roles and data scopes"),
                 _("Who signs in, their role, and what a supplier or service owner may see."),
                 [(_("Users"), users["total"]), *[(label, users["roles"].get(role, 0)) for role, label in Role.choices],
                  (_("Disabled"), users["disabled"])],
                 [(_("Users"), "admin:org_user_changelist"), (_("Add a user"), "admin:org_user_add")]),
        _section("organisation", _("Organisation"),
                 _("Suppliers, groups and services, as imported or synced from the ITSM tool."),
                 _organisation_counts(scope),
                 [(_("Suppliers"), "admin:org_supplier_changelist"), (_("Groups"), "admin:org_group_changelist"),
                  (_("Services"), "admin:org_service_changelist")]),
        _section("tokens", _("API tokens"), _("Keys that scripts and other tools use to call the API as a user."),
                 _token_counts(), [(_("API tokens"), "admin:org_apitoken_changelist")]),
        _section("surveys", _("Surveys"),
                 _("What surveys ask, the factors people may tick, and how often one person may be asked."),
                 _survey_counts(),
                 [(_("Survey templates"), "admin:surveys_surveytemplate_changelist"),
                  (_("Factors"), "admin:surveys_factor_changelist"),
                  (_("Fatigue rules"), "admin:surveys_fatiguerule_changelist"),
                  (_("Lost time choices"), "admin:surveys_losttimechoice_changelist")]),
        _section("sla", _("SLAs and business calendars"),
                 _("The SLAs ITXM measures itself, beside the verdicts the ITSM tool reports."),
                 _sla_counts(),
                 [(_("SLA definitions"), "admin:tickets_sladefinition_changelist"),
                  (_("Business calendars"), "admin:tickets_businesscalendar_changelist")]),
        _section("connectors", _("Connectors"), _("ITSM tools ITXM pulls tickets from, and their last sync."),
                 [(_("Connectors"), len(connectors)), (_("Enabled"), sum(c["enabled"] for c in connectors))],
                 [(_("Connectors"), "admin:tickets_connector_changelist"),
                  (_("Sync runs"), "admin:tickets_syncrun_changelist")]),
        _section("devices", _("Device enrolment"),
                 _("One-time codes a device agent exchanges for its own key."),
                 _enrolment_counts(now),
                 [(_("Enrolment codes"), "admin:devices_enrolmentcode_changelist"),
                  (_("Make a code"), "admin:devices_enrolmentcode_add")]),
        _section("sharing", _("Share links and reports"),
                 _("Read-only links to pages, and who gets the monthly report by e-mail."),
                 [(_("Share links that work"), sharing.live_count(now)), *_subscription_counts()],
                 [(_("Share links"), "admin:web_sharelink_changelist"),
                  (_("Report subscriptions"), "admin:web_reportsubscription_changelist"),
                  (_("Your share links"), "share_links")]),
    ]  # fmt: skip
    context = {"sections": sections, "connectors": connectors, "warnings": _warnings(users, connectors, now)}
    return render(request, "web/settings/hub.html", context)


def _section(key, title, note, counts, links) -> Section:
    return Section(key, title, note, counts, [(label, url) for label, name in links if (url := _url(name))])


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


# --- reads of the configuration (admins only: not scoped) ----------------------------------------------


def _users() -> dict:
    users = User.objects.all()
    return {
        "total": users.count(),
        "disabled": users.filter(is_active=False).count(),
        "roles": dict(users.filter(is_active=True).values("role").annotate(n=Count("id")).values_list("role", "n")),
        "suppliers_without_supplier": list(
            users.filter(is_active=True, role=Role.SUPPLIER, supplier__isnull=True).values_list("username", flat=True)
        ),
        "owners_without_services": list(
            users.filter(is_active=True, role=Role.SERVICE_OWNER)
            .annotate(owned=Count("services"))
            .filter(owned=0)
            .values_list("username", flat=True)
        ),
        "active_admins": users.filter(is_active=True, role=Role.ADMIN).count(),
    }


def _organisation_counts(scope) -> list[tuple[str, int]]:
    labels = {"suppliers": _("Suppliers"), "groups": _("Groups"), "services": _("Services"), "agents": _("Agents"),
              "employees": _("Employees")}  # fmt: skip
    return [(labels.get(name, name), value) for name, value in org.counts(scope).items()]


def _token_counts() -> list[tuple[str, int]]:
    tokens = ApiToken.objects.aggregate(
        active=Count("id", filter=Q(revoked_at__isnull=True)), revoked=Count("id", filter=Q(revoked_at__isnull=False))
    )
    return [(_("Active"), tokens["active"]), (_("Revoked"), tokens["revoked"])]


def _survey_counts() -> list[tuple[str, int]]:
    return [
        (_("Survey templates"), SurveyTemplate.objects.count()),
        (_("Active factors"), Factor.objects.filter(is_active=True).count()),
        (_("Fatigue rules on"), FatigueRule.objects.filter(enabled=True).count()),
    ]


def _sla_counts() -> list[tuple[str, int]]:
    return [
        (_("Active SLA definitions"), SlaDefinition.objects.filter(is_active=True).count()),
        (_("Business calendars"), BusinessCalendar.objects.count()),
    ]


def _enrolment_counts(now) -> list[tuple[str, int]]:
    codes = EnrolmentCode.objects.aggregate(
        unused=Count("id", filter=Q(used_at__isnull=True, expires_at__gt=now)),
        used=Count("id", filter=Q(used_at__isnull=False)),
    )
    return [(_("Unused codes"), codes["unused"]), (_("Codes used"), codes["used"])]


def _subscription_counts() -> list[tuple[str, int]]:
    return [(_("Report subscribers"), ReportSubscription.objects.filter(active=True).count())]


def _connectors(now) -> list[dict]:
    last = SyncRun.objects.filter(connector=OuterRef("pk")).order_by("-started_at")
    rows = Connector.objects.annotate(
        run_status=Subquery(last.values("status")[:1]),
        run_started=Subquery(last.values("started_at")[:1]),
        run_error=Subquery(last.values("error")[:1]),
    )
    found = []
    for connector in rows:
        failed = connector.run_status == SyncStatus.FAILED or bool(connector.last_error and not connector.run_status)
        due_by = (connector.last_synced_at or connector.run_started or now) + timedelta(
            minutes=connector.sync_interval_minutes * LATE_INTERVALS
        )
        found.append({
            "id": connector.pk, "name": connector.name, "kind": connector.get_kind_display(),
            "enabled": connector.enabled, "last_synced_at": connector.last_synced_at,
            "run_status": connector.run_status, "run_status_label": _run_status(connector.run_status),
            "run_started": connector.run_started,
            "failed": failed,
            "error": _first_line(connector.run_error or connector.last_error),
            "late": connector.enabled and connector.last_synced_at is not None and due_by < now,
            "link": _url_args("admin:tickets_connector_change", connector.pk),
        })  # fmt: skip
    return found


def _run_status(value: str | None) -> str:
    if not value:
        return _("never synced")
    return str(SyncStatus(value).label) if value in SyncStatus.values else value


def _first_line(text: str | None) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:200] + ("…" if len(line) > 200 else "")


def _url_args(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _failing_subscriptions() -> list[str]:
    return list(
        ReportSubscription.objects.filter(active=True).exclude(last_error="").values_list("user__username", flat=True)
    )


def _warnings(users: dict, connectors: list[dict], now) -> list[dict]:
    """What an administrator should act on, each with where to do it."""
    found = []

    def warn(text: str, url_name: str = "", url: str = ""):
        found.append({"text": text, "url": url or (_url(url_name) if url_name else "")})

    for connector in connectors:
        name = connector["name"]
        if connector["enabled"] and connector["failed"]:
            error = connector["error"] or _("no detail")
            warn(_("Connector %(name)s: its last sync failed (%(error)s).") % {"name": name, "error": error},
                 url=connector["link"])  # fmt: skip
        elif connector["late"]:
            when = timezone.localtime(connector["last_synced_at"]).strftime("%Y-%m-%d %H:%M")
            warn(_("Connector %(name)s has not synced since %(when)s: is the background worker running?")
                 % {"name": name, "when": when}, url=connector["link"])  # fmt: skip
    if names := users["suppliers_without_supplier"]:
        warn(_("Supplier users without a supplier see no data at all: %(names)s.") % {"names": ", ".join(names)},
             "admin:org_user_changelist")  # fmt: skip
    if names := users["owners_without_services"]:
        warn(_("Service owners without services see no data at all: %(names)s.") % {"names": ", ".join(names)},
             "admin:org_user_changelist")  # fmt: skip
    if users["active_admins"] == 1:
        warn(_("Only one administrator can sign in: if that account is lost, nobody can manage ITXM."),
             "admin:org_user_changelist")  # fmt: skip
    if not FatigueRule.objects.filter(enabled=True).exists():
        warn(_("No fatigue rule is on: people may be asked for a survey after every ticket."),
             "admin:surveys_fatiguerule_changelist")  # fmt: skip
    if not SlaDefinition.objects.filter(is_active=True).exists():
        warn(_("No SLA definition is active: ITXM shows only the SLA verdicts the ITSM tool reports."),
             "admin:tickets_sladefinition_changelist")  # fmt: skip
    if names := _failing_subscriptions():
        warn(_("The last monthly report could not be sent to: %(names)s.") % {"names": ", ".join(names)},
             "admin:web_reportsubscription_changelist")  # fmt: skip
    return found


urlpatterns = [path("settings/", settings_hub, name="settings_hub")]
