"""The demo company's organisation: Meridyen Group, about 2,000 people in Türkiye, Germany, the UK,
the Netherlands and the US, its IT groups (some run by two suppliers), services and demo users.

Leaves for later steps in ``ctx.ids``: ``employee_ids`` and ``employee_countries`` (numpy arrays, same
order), ``time_zones`` (country → zone), ``groups`` (external id → (pk, name)), ``agents`` (group
external id → agent pks), ``services`` (external id → pk), ``categories`` (service external id →
{"incident"|"request": [(pk, name)]}).
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db.models import ProtectedError

from itxm.demo import DEMO_PASSWORD, DemoContext, DemoError, DemoLogin
from itxm.org.models import (
    Agent,
    Category,
    Department,
    Employee,
    Group,
    Language,
    Location,
    Role,
    Service,
    Supplier,
    User,
)
from itxm.org.services import create_user

COMPANY_DOMAIN = "meridyen.example"  # .example never delivers mail, so surveys cannot reach anyone real
EMPLOYEES = 2000
ESTIMATED_ROWS = 2200
OPTED_OUT_SHARE = 0.02


@dataclass(frozen=True)
class Office:
    name: str
    country: str
    time_zone: str
    share: float


OFFICES = (
    Office("Istanbul", "TR", "Europe/Istanbul", 0.27),
    Office("Ankara", "TR", "Europe/Istanbul", 0.10),
    Office("Izmir", "TR", "Europe/Istanbul", 0.07),
    Office("Frankfurt", "DE", "Europe/Berlin", 0.11),
    Office("Munich", "DE", "Europe/Berlin", 0.07),
    Office("London", "GB", "Europe/London", 0.14),
    Office("Amsterdam", "NL", "Europe/Amsterdam", 0.12),
    Office("New York", "US", "America/New_York", 0.12),
)

# Hourly cost of a person's time, for lost-time figures: a country base times a department factor.
COUNTRY_COST = {"TR": 32.0, "DE": 58.0, "GB": 55.0, "NL": 56.0, "US": 62.0}
COST_RANGE = (20.0, 110.0)
COUNTRY_CULTURE = {"TR": "tr", "DE": "de", "GB": "en", "NL": "nl", "US": "en"}

DEPARTMENTS = (  # name, share of staff, cost factor
    ("Finance", 0.08, 1.15),
    ("Sales", 0.17, 1.05),
    ("Human Resources", 0.05, 0.95),
    ("Engineering", 0.16, 1.25),
    ("Operations", 0.20, 0.85),
    ("Legal", 0.03, 1.45),
    ("Marketing", 0.07, 1.00),
    ("Customer Service", 0.15, 0.75),
    ("Procurement", 0.04, 0.95),
    ("Information Technology", 0.05, 1.20),
)

NAMES = {  # culture: (first names, surnames)
    "tr": (
        "Ayşe Fatma Zeynep Elif Emine Hatice Merve Büşra Esra Özlem Derya Gülşen Şeyma Ebru İrem Selin Ceren "
        "Yasemin Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Osman Yusuf Murat Emre Burak Can Oğuz "
        "Serkan Barış Çağlar Gökhan Kerem Deniz".split(),
        "Yılmaz Kaya Demir Çelik Şahin Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan Çetin "
        "Kara Koç Kurt Özkan Şimşek Polat Güneş Aksoy Acar Tekin Bulut Korkmaz Keskin Uçar Ünal".split(),
    ),
    "en": (
        "Emma Olivia Sophie Charlotte Amelia Grace Emily Hannah Jessica Lucy Sarah Rachel Laura Megan Chloe "
        "James Oliver Jack Thomas William Harry George Daniel Michael David Matthew Andrew Robert Samuel "
        "Benjamin".split(),
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
        "Roberts Green Hall Wood Clarke Jackson Miller Garcia Martinez Anderson Moore".split(),
    ),
    "de": (
        "Anna Lena Katharina Julia Sabine Claudia Petra Sandra Nicole Stefanie Jana Lea Miriam Franziska "
        "Lukas Jonas Maximilian Felix Tobias Stefan Andreas Matthias Jürgen Klaus Florian Sebastian "
        "Markus".split(),
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter "
        "Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hartmann Lange".split(),
    ),
    "nl": (
        "Sanne Anouk Lotte Fleur Femke Iris Eva Marieke Ingrid Noor Esther Mirjam Annelies Daan Bram Sem "
        "Jeroen Pieter Joost Willem Ruben Thijs Lars Maarten Bas Niels Sander Koen".split(),
        "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|Mulder|"
        "de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|de Graaf|van der Meer".split("|"),
    ),
}
ASCII_SPELLING = {"de": {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}, "tr": {"ı": "i"}}

SUPPLIERS = (  # external id, name, mail domain
    ("SUP-A", "Anka Bilişim Hizmetleri A.Ş.", "anka.example"),
    ("SUP-B", "Bridgewater Managed Services Ltd", "bridgewater.example"),
)


@dataclass(frozen=True)
class GroupSpec:
    external_id: str
    name: str
    supplier: str | None
    culture: str  # whose names its agents have; "mixed" for the in-house teams


GROUPS = (
    GroupSpec("GRP-SD-TR", "Service Desk TR", None, "tr"),
    GroupSpec("GRP-SD-INT", "Service Desk International", "SUP-B", "en"),
    GroupSpec("GRP-FIELD-TR", "Field Services TR", "SUP-A", "tr"),
    GroupSpec("GRP-FIELD-EU", "Field Services Europe & US", "SUP-B", "en"),
    GroupSpec("GRP-PRINT", "Print Services", "SUP-A", "tr"),
    GroupSpec("GRP-NET", "Network & Connectivity", None, "mixed"),
    GroupSpec("GRP-DC", "Data Centre & Cloud", None, "mixed"),
    GroupSpec("GRP-COLLAB", "Messaging & Collaboration", None, "mixed"),
    GroupSpec("GRP-IAM", "Identity & Access Management", None, "mixed"),
    GroupSpec("GRP-ERP-APP", "ERP Applications", None, "mixed"),
    GroupSpec("GRP-INTEG", "Integration & Middleware", None, "mixed"),
    GroupSpec("GRP-BIZAPP", "Business Applications", None, "mixed"),
    GroupSpec("GRP-DATA", "Data & Analytics", None, "mixed"),
    GroupSpec("GRP-SEC", "Security Operations", None, "mixed"),
)
MIXED_CULTURES = (("tr", 0.55), ("en", 0.2), ("de", 0.15), ("nl", 0.1))


@dataclass(frozen=True)
class ServiceSpec:
    external_id: str
    name: str
    description: str
    incidents: tuple[str, ...]
    requests: tuple[str, ...]


SERVICES = (
    ServiceSpec(
        "SVC-EMAIL",
        "E-mail",
        "Mailboxes, shared mailboxes and distribution lists.",
        ("Cannot send or receive e-mail", "Mailbox full", "Outlook does not start"),
        ("Shared mailbox", "Distribution list change"),
    ),
    ServiceSpec(
        "SVC-VPN",
        "VPN / Remote Access",
        "Working from home and on the road.",
        ("VPN cannot connect", "VPN keeps disconnecting", "Slow remote connection"),
        ("VPN access",),
    ),
    ServiceSpec(
        "SVC-ERP",
        "ERP (Finance)",
        "Finance and controlling in the ERP system: postings, reports, month-end close.",
        ("Posting error", "Report shows wrong figures", "Month-end close blocked", "Interface error"),
        ("ERP role change", "New ERP user"),
    ),
    ServiceSpec(
        "SVC-CRM",
        "CRM",
        "Customers, opportunities and sales reports.",
        ("CRM page does not load", "Customer data missing", "CRM sync error"),
        ("CRM licence", "CRM report change"),
    ),
    ServiceSpec(
        "SVC-WORKPLACE",
        "Laptop & Desktop",
        "Laptops, desktops, docking stations, monitors and their software.",
        ("Laptop hardware fault", "Laptop is slow", "Blue screen", "Docking station does not work"),
        ("New laptop", "Software installation", "Monitor or accessory"),
    ),
    ServiceSpec(
        "SVC-PRINT",
        "Printing",
        "Office printers, scanning and copying.",
        ("Printer does not print", "Paper jam", "Scan to e-mail fails"),
        ("New printer queue", "Toner replacement"),
    ),
    ServiceSpec(
        "SVC-WIFI",
        "Wi-Fi",
        "Wireless network in the offices, guest Wi-Fi.",
        ("No Wi-Fi connection", "Weak Wi-Fi signal"),
        ("Guest Wi-Fi access",),
    ),
    ServiceSpec(
        "SVC-COLLAB",
        "Collaboration (Teams)",
        "Chat, calls, online meetings and meeting-room devices.",
        ("Poor call quality", "Cannot join a meeting", "Teams does not start"),
        ("New team or channel", "Meeting-room device"),
    ),
    ServiceSpec(
        "SVC-IAM",
        "Identity & Access",
        "Accounts, passwords, multi-factor sign-in and access rights.",
        ("Account locked", "Password reset", "MFA does not work"),
        ("Access request", "New joiner account", "Leaver account removal"),
    ),
    ServiceSpec(
        "SVC-HRPORTAL",
        "HR Portal",
        "Leave, expenses and personal data.",
        ("Cannot sign in to the HR portal", "Leave request not saved"),
        ("HR portal role",),
    ),
    ServiceSpec(
        "SVC-PAYROLL",
        "Payroll",
        "Payslips and salary changes.",
        ("Payslip missing", "Wrong payslip amount"),
        ("Payroll data change",),
    ),
    ServiceSpec(
        "SVC-PORTAL",
        "Service Portal",
        "The self-service portal for IT requests and incidents.",
        ("Portal form error", "Portal is slow"),
        ("Portal catalogue change",),
    ),
    ServiceSpec(
        "SVC-MOBILE",
        "Mobile Devices",
        "Company phones and tablets.",
        ("Phone does not sync mail", "Broken phone"),
        ("New mobile phone", "SIM card"),
    ),
    ServiceSpec(
        "SVC-FILES",
        "File Shares",
        "Network drives and their backups.",
        ("Network drive does not open", "Share is slow"),
        ("Share access", "File restore"),
    ),
    ServiceSpec(
        "SVC-PHONE",
        "Telephony",
        "Desk phones and call-centre lines.",
        ("Desk phone does not work", "Call-centre line down"),
        ("New extension",),
    ),
    ServiceSpec(
        "SVC-DWH",
        "Data Warehouse",
        "Reporting data and dashboards.",
        ("Dashboard not refreshed", "Query times out"),
        ("New report", "Data access"),
    ),
    ServiceSpec(
        "SVC-SEC",
        "Information Security",
        "Phishing reports, malware alerts and security exceptions.",
        ("Phishing e-mail reported", "Malware alert"),
        ("Security exception", "USB access"),
    ),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    supplier: str | None = None
    services: tuple[str, ...] = ()
    note: str = ""


DEMO_USERS = (
    DemoUser("admin", Role.ADMIN, note="everything, including settings and users"),
    DemoUser("analyst", Role.ANALYST, note="all data and people"),
    DemoUser("owner", Role.SERVICE_OWNER, services=("SVC-ERP", "SVC-CRM"), note="owns ERP (Finance) and CRM"),
    DemoUser("supplier-a", Role.SUPPLIER, supplier="SUP-A", note="sees Anka's groups only"),
    DemoUser("supplier-b", Role.SUPPLIER, supplier="SUP-B", note="sees Bridgewater's groups only"),
    DemoUser("viewer", Role.VIEWER, note="reads dashboards"),
)

# Deleted children first; user links to suppliers are protected and checked by reset().
ORG_MODELS = (
    (Employee, "employees"),
    (Agent, "agents"),
    (Category, "categories"),
    (Service, "services"),
    (Group, "groups"),
    (Supplier, "suppliers"),
    (Location, "locations"),
    (Department, "departments"),
)


def build(ctx: DemoContext) -> dict[str, int]:
    departments = create_departments(ctx)
    offices = create_offices(ctx)
    suppliers = create_suppliers(ctx)
    groups = create_groups(ctx, suppliers)
    create_agents(ctx, groups)
    create_services(ctx)
    employees = create_employees(ctx, departments, offices)
    create_demo_users(ctx)
    return {
        "departments": len(departments),
        "locations": len(offices),
        "suppliers": len(suppliers),
        "groups": len(groups),
        "agents": sum(len(agents) for agents in ctx.ids["agents"].values()),
        "services": len(ctx.ids["services"]),
        "categories": sum(len(ids) for kinds in ctx.ids["categories"].values() for ids in kinds.values()),
        "employees": employees,
        "users": sum(login.note != "existing account kept" for login in ctx.logins),
    }


def existing_data() -> list[str]:
    return [label for model, label in ORG_MODELS if model.objects.exists()]


def reset() -> None:
    demo_users().delete()
    try:
        for model, _label in ORG_MODELS:
            model.objects.all().delete()
    except ProtectedError as exc:
        users = ", ".join(sorted({user.username for user in exc.protected_objects}))
        raise DemoError(f"users {users} are linked to suppliers the reset would delete: change them first") from exc


def demo_users():
    """The demo's own accounts: a real account with the same name keeps its password and stays."""
    names = [user.username for user in DEMO_USERS]
    return User.objects.filter(username__in=names, email__endswith=f"@{COMPANY_DOMAIN}")


def create_departments(ctx: DemoContext) -> list[Department]:
    return ctx.create(Department, [Department(name=name) for name, _share, _factor in DEPARTMENTS])


def create_offices(ctx: DemoContext) -> list[Location]:
    ctx.ids["time_zones"] = {office.country: office.time_zone for office in OFFICES}
    locations = [Location(name=o.name, country=o.country, time_zone=o.time_zone) for o in OFFICES]
    return ctx.create(Location, locations)


def create_suppliers(ctx: DemoContext) -> dict[str, Supplier]:
    suppliers = [Supplier(external_id=external_id, name=name) for external_id, name, _domain in SUPPLIERS]
    return {supplier.external_id: supplier for supplier in ctx.create(Supplier, suppliers)}


def create_groups(ctx: DemoContext, suppliers: dict[str, Supplier]) -> list[Group]:
    groups = [
        Group(
            external_id=spec.external_id,
            name=spec.name,
            supplier=suppliers.get(spec.supplier),
            email=f"{spec.external_id.removeprefix('GRP-').lower()}@{mail_domain(spec.supplier)}",
        )
        for spec in GROUPS
    ]
    ctx.create(Group, groups)
    ctx.ids["groups"] = {group.external_id: (group.pk, group.name) for group in groups}
    return groups


def mail_domain(supplier: str | None) -> str:
    return next((domain for external_id, _name, domain in SUPPLIERS if external_id == supplier), COMPANY_DOMAIN)


def create_agents(ctx: DemoContext, groups: list[Group]) -> None:
    agents: list[Agent] = []
    used_addresses: dict[str, int] = {}
    for spec, group in zip(GROUPS, groups, strict=True):
        for _ in range(int(ctx.rng.integers(5, 11))):
            culture = spec.culture if spec.culture != "mixed" else mixed_culture(ctx.rng)
            name = person_name(ctx.rng, culture)
            address = unique_address(name, culture, mail_domain(spec.supplier), used_addresses)
            agents.append(Agent(external_id=f"AGT-{len(agents) + 1:04d}", name=name, email=address, group=group))
    ctx.create(Agent, agents)
    by_group: dict[str, list[int]] = {spec.external_id: [] for spec in GROUPS}
    for agent in agents:
        by_group[agent.group.external_id].append(agent.pk)
    ctx.ids["agents"] = by_group


def mixed_culture(rng: np.random.Generator) -> str:
    cultures, shares = zip(*MIXED_CULTURES, strict=True)
    return cultures[rng.choice(len(cultures), p=shares)]


def person_name(rng: np.random.Generator, culture: str) -> str:
    first_names, surnames = NAMES[culture]
    return f"{first_names[rng.integers(len(first_names))]} {surnames[rng.integers(len(surnames))]}"


def create_services(ctx: DemoContext) -> None:
    services = ctx.create(
        Service, [Service(external_id=s.external_id, name=s.name, description=s.description) for s in SERVICES]
    )
    categories: list[Category] = []
    kinds: list[str] = []
    for spec, service in zip(SERVICES, services, strict=True):
        named = [("incident", name) for name in spec.incidents] + [("request", name) for name in spec.requests]
        for number, (kind, name) in enumerate(named, start=1):
            external_id = f"CAT-{spec.external_id.removeprefix('SVC-')}-{number:02d}"
            categories.append(Category(external_id=external_id, name=name, service=service))
            kinds.append(kind)
    ctx.create(Category, categories)
    ctx.ids["services"] = {service.external_id: service.pk for service in services}
    by_service: dict[str, dict[str, list[tuple[int, str]]]] = {
        s.external_id: {"incident": [], "request": []} for s in SERVICES
    }
    for category, kind in zip(categories, kinds, strict=True):
        by_service[category.service.external_id][kind].append((category.pk, category.name))
    ctx.ids["categories"] = by_service


def create_employees(ctx: DemoContext, departments: list[Department], offices: list[Location]) -> int:
    count = ctx.scaled(EMPLOYEES, minimum=50)
    rng = ctx.rng
    office_of = rng.choice(len(OFFICES), size=count, p=[office.share for office in OFFICES])
    department_of = rng.choice(len(DEPARTMENTS), size=count, p=[share for _name, share, _factor in DEPARTMENTS])
    cost_noise = np.exp(rng.normal(0.0, 0.12, size=count))
    opted_out = rng.random(count) < OPTED_OUT_SHARE
    used_addresses: dict[str, int] = {}
    employees = []
    for index in range(count):
        office = OFFICES[office_of[index]]
        _department, _share, cost_factor = DEPARTMENTS[department_of[index]]
        culture = COUNTRY_CULTURE[office.country]
        name = person_name(rng, culture)
        cost = np.clip(COUNTRY_COST[office.country] * cost_factor * cost_noise[index], *COST_RANGE)
        employees.append(
            Employee(
                external_id=f"E{100001 + index}",
                name=name,
                email=unique_address(name, culture, COMPANY_DOMAIN, used_addresses),
                department=departments[department_of[index]],
                location=offices[office_of[index]],
                country=office.country,
                language=Language.TURKISH if office.country == "TR" else Language.ENGLISH,
                cost_per_hour=Decimal(f"{cost:.2f}"),
                opted_out=bool(opted_out[index]),
            )
        )
    ctx.create(Employee, employees)
    ctx.ids["employee_ids"] = np.array([employee.pk for employee in employees])
    ctx.ids["employee_countries"] = np.array([employee.country for employee in employees])
    return count


def unique_address(name: str, culture: str, domain: str, used: dict[str, int]) -> str:
    local = ".".join(ascii_word(part, culture) for part in (name.split(" ", 1)))
    used[local] = used.get(local, 0) + 1
    suffix = "" if used[local] == 1 else str(used[local])
    return f"{local}{suffix}@{domain}"


def ascii_word(text: str, culture: str) -> str:
    for letter, spelling in ASCII_SPELLING.get(culture, {}).items():
        text = text.replace(letter, spelling)
    plain = unicodedata.normalize("NFKD", text.replace("İ", "I")).encode("ascii", "ignore").decode()
    return "".join(letter for letter in plain.lower() if letter.isalnum())


def create_demo_users(ctx: DemoContext) -> None:
    for spec in DEMO_USERS:
        if User.objects.filter(username=spec.username).exists():
            ctx.logins.append(DemoLogin(spec.username, spec.role, "existing account kept"))
            continue
        create_user(
            spec.username,
            DEMO_PASSWORD,
            spec.role,
            email=f"{spec.username}@{COMPANY_DOMAIN}",
            supplier_external_id=spec.supplier,
            service_external_ids=list(spec.services),
            check_password=False,
        )
        ctx.logins.append(DemoLogin(spec.username, spec.role, spec.note))
        ctx.progress(1)
