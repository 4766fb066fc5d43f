"""Share links: made from a page, shown once, opened by anyone as a read-only page in the creator's scope."""

import hashlib
import io
import json
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from openpyxl import load_workbook

from itxm.analytics import xla
from itxm.org.models import Role, Supplier
from itxm.org.scopes import EVERYTHING
from itxm.surveys import services as surveys
from itxm.surveys.models import FatigueRule, Invitation
from itxm.surveys.tokens import answer_token
from itxm.tickets.services import ingest_payload
from itxm.web import sharing
from itxm.web.models import ShareLink

DAY = datetime.combine(timezone.now().date() - timedelta(days=3), time(9), tzinfo=UTC)
LINK = re.compile(r"/shared/([A-Za-z0-9_-]{40,})/")


@pytest.fixture(autouse=True)
def default_language_after():
    """A Turkish request leaves Turkish active in this thread: later tests expect the default."""
    yield
    translation.deactivate()


def _ticket(number: str, group: str, service: str, agent: str) -> dict:
    resolved = DAY + timedelta(hours=4)
    return {"source_id": number, "number": number, "kind": "incident", "state": "resolved",
            "opened_at": DAY.isoformat(), "resolved_at": resolved.isoformat(),
            "updated_at": (resolved + timedelta(seconds=1)).isoformat(), "group": group, "service": service,
            "assignee": agent, "caller": "E1", "channel": "phone", "priority": 3}  # fmt: skip


@pytest.fixture
def answered(org):
    """One answered ticket for each supplier's desk, and an XLA for each desk: the overview has rows."""
    FatigueRule.objects.update(enabled=False)
    rows = [_ticket("INC-ALPHA-2", "GRP-ALPHA", "SVC-MAIL", "AG-ALPHA"),
            _ticket("INC-ZETA-2", "GRP-ZETA", "SVC-ERP", "AG-ZETA")]  # fmt: skip
    report = ingest_payload(EVERYTHING, "test", json.dumps(rows).encode(), "application/json")
    assert not report.errors
    for number, score in (("INC-ALPHA-2", 9), ("INC-ZETA-2", 3)):
        invitation = Invitation.objects.get(ticket__number=number)
        surveys.record_score(answer_token(invitation.pk, invitation.nonce), score)
    for name, group in (("Alpha desk experience", org["alpha_group"]), ("Zeta desk experience", org["zeta_group"])):
        indicators = (xla.IndicatorSpec(metric="happiness", target=30),)
        xla.create_xla(
            EVERYTHING, xla.XlaSpec(name=name, dimension="group", member=str(group.pk), indicators=indicators)
        )
    return org


def make_link(client, path: str, days=14, title="") -> str:
    """Make a link through the form, as a person would; the token from the page that shows it."""
    response = client.post("/share/", {"path": path, "days": days, "title": title})
    assert response.status_code == 200, response.content.decode()[:500]
    return LINK.search(response.content.decode())[1]


# --- making a link ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_dashboard_page_offers_to_share_itself(users, client_for):
    page = client_for(users["viewer"]).get("/?period=30d").content.decode()
    form = re.search(r'<form class="share" method="post" action="/share/">.*?</form>', page, re.S)[0]
    assert 'name="path" value="/?period=30d"' in form and "csrfmiddlewaretoken" in form


@pytest.mark.django_db
def test_the_share_button_asks_for_the_expiry_before_making_anything(users, client_for):
    response = client_for(users["analyst"]).post("/share/", {"path": "/?period=30d"})
    page = response.content.decode()
    assert response.status_code == 200 and ShareLink.objects.count() == 0
    assert 'name="days"' in page and 'value="14"' in page and 'max="90"' in page
    assert 'name="path" value="/?period=30d"' in page and 'for="share-days"' in page


@pytest.mark.django_db
def test_a_link_is_shown_once_and_only_its_hash_is_kept(users, client_for):
    before = timezone.now()
    response = client_for(users["analyst"]).post(
        "/share/", {"path": "/?period=30d", "days": "30", "title": "For the CIO"}
    )
    token = LINK.search(response.content.decode())[1]
    link = ShareLink.objects.get()
    assert response["Cache-Control"] == "no-store"
    assert f"http://testserver/shared/{token}/" in response.content.decode()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in " ".join(str(value) for value in ShareLink.objects.values().get().values())
    assert link.path == "/?period=30d" and link.title == "For the CIO" and link.created_by == users["analyst"]
    assert timedelta(days=30) <= link.expires_at - before < timedelta(days=30, minutes=1)


@pytest.mark.django_db
@pytest.mark.parametrize("days", ["0", "91", "-3", "many", ""])
def test_a_link_lasts_one_to_ninety_days(users, client_for, days):
    response = client_for(users["analyst"]).post("/share/", {"path": "/", "days": days})
    assert response.status_code == 200 and ShareLink.objects.count() == 0
    assert "1 to 90" in response.content.decode() and 'role="alert"' in response.content.decode()


@pytest.mark.django_db
def test_ninety_days_is_allowed(users, client_for):
    make_link(client_for(users["analyst"]), "/", days=90)
    link = ShareLink.objects.get()
    assert (link.expires_at - link.created_at) == timedelta(days=90)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/org/user/", "/settings/", "/share/links/", "/share/", "/shared/abc/", "/login/",
     "/api/v1/tickets", "/no-such-page/", "https://evil.example/", "//evil.example/", "javascript:alert(1)", ""],
)  # fmt: skip
def test_only_dashboard_pages_can_be_shared(users, client_for, path):
    response = client_for(users["admin"]).post("/share/", {"path": path, "days": "14"})
    assert response.status_code == 400 and ShareLink.objects.count() == 0
    assert "cannot be shared" in response.content.decode() or "Only a page of this site" in response.content.decode()


@pytest.mark.django_db
def test_the_shared_query_keeps_the_filters_but_not_a_download(users, client_for):
    make_link(client_for(users["analyst"]), "/?period=30d&export=csv&table=xlas&service=1")
    assert ShareLink.objects.get().path == "/?period=30d&service=1"


@pytest.mark.django_db
def test_making_a_link_needs_a_signed_in_user_and_a_post(users, client_for):
    assert Client().post("/share/", {"path": "/", "days": "14"}).status_code == 302
    assert client_for(users["viewer"]).get("/share/").status_code == 302  # to the list of links
    assert ShareLink.objects.count() == 0


@pytest.mark.django_db
def test_making_a_link_needs_the_csrf_token(users, client_for):
    response = client_for(users["analyst"], enforce_csrf=True).post("/share/", {"path": "/", "days": "14"})
    assert response.status_code == 403 and ShareLink.objects.count() == 0


# --- opening a link ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anyone_with_the_link_sees_the_page_read_only(answered, users, client_for):
    token = make_link(client_for(users["analyst"]), "/?period=30d")
    response = Client().get(f"/shared/{token}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "A read-only view shared by analyst" in page and "Zeta desk experience" in page
    assert 'class="share"' not in page and "Sign out" not in page  # no share button, no session
    assert 'href="/watermelons/"' not in page and 'href="/settings/"' not in page  # no menu
    assert response["Cache-Control"] == "private, no-store" and "noindex" in response["X-Robots-Tag"]


@pytest.mark.django_db
def test_a_suppliers_link_shows_only_its_data_whoever_opens_it(answered, users, client_for):
    token = make_link(client_for(users["alpha"]), "/?period=30d")
    for visitor in (Client(), client_for(users["admin"]), client_for(users["zeta"])):
        page = visitor.get(f"/shared/{token}/").content.decode()
        assert "Alpha desk experience" in page and "Alpha Desk" in page
        assert not re.search("zeta", page, re.IGNORECASE), "another supplier's data through a share link"
        assert "admin · " not in page and "Sign out" not in page


@pytest.mark.django_db
def test_a_suppliers_link_exports_only_its_rows(answered, users, client_for):
    token = make_link(client_for(users["alpha"]), "/?period=30d")
    visitor = client_for(users["admin"])

    csv_rows = visitor.get(f"/shared/{token}/?export=csv&table=xlas").content.decode("utf-8-sig").splitlines()
    xlsx = visitor.get(f"/shared/{token}/?export=xlsx&table=xlas")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active

    assert csv_rows[0].startswith("XLA,") and [row.split(",")[0] for row in csv_rows[1:]] == ["Alpha desk experience"]
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["Alpha desk experience"]
    admin_rows = visitor.get("/?period=30d&export=csv&table=xlas").content.decode("utf-8-sig").splitlines()
    assert len(admin_rows) == 3  # the admin's own page has both desks: the link used the creator's scope


@pytest.mark.django_db
def test_a_link_follows_its_creators_current_scope(answered, users, client_for):
    token = make_link(client_for(users["alpha"]), "/?period=30d")
    users["alpha"].supplier = Supplier.objects.get(external_id="SUP-ZETA")
    users["alpha"].save()
    page = Client().get(f"/shared/{token}/").content.decode()
    assert "Zeta desk experience" in page and "Alpha desk experience" not in page


@pytest.mark.django_db
def test_the_visitor_cannot_change_the_shared_filters(answered, users, client_for):
    token = make_link(client_for(users["analyst"]), "/?period=30d")
    page = Client().get(f"/shared/{token}/?period=365d&service={answered['erp'].pk}").content.decode()
    assert '<option value="30d" selected>' in page and '<option value="365d" selected>' not in page
    assert f'<option value="{answered["erp"].pk}" selected>' not in page


@pytest.mark.django_db
def test_views_are_counted(users, client_for):
    token = make_link(client_for(users["analyst"]), "/")
    Client().get(f"/shared/{token}/")
    Client().get(f"/shared/{token}/")
    link = ShareLink.objects.get()
    assert link.views == 2 and link.last_viewed_at is not None


@pytest.mark.django_db
def test_a_link_cannot_be_used_to_post(users, client_for):
    token = make_link(client_for(users["analyst"]), "/")
    for method in ("post", "put", "delete"):
        response = getattr(Client(), method)(f"/shared/{token}/", {"path": "/"})
        assert response.status_code == 405
    assert ShareLink.objects.get().views == 0 and ShareLink.objects.count() == 1


@pytest.mark.django_db
def test_a_tampered_or_unknown_token_is_not_found(users, client_for):
    token = make_link(client_for(users["analyst"]), "/")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for attempt in (tampered, token.upper(), "x", "a" * 300, sharing.token_hash(token)):
        response = Client().get(f"/shared/{attempt}/")
        assert response.status_code == 404 and "Link not found" in response.content.decode()


@pytest.mark.django_db
def test_an_expired_link_is_gone(users, client_for):
    token = make_link(client_for(users["analyst"]), "/")
    ShareLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(f"/shared/{token}/")
    assert response.status_code == 410 and "This link no longer works" in response.content.decode()


@pytest.mark.django_db
def test_a_revoked_link_is_gone(users, client_for):
    creator = client_for(users["analyst"])
    token = make_link(creator, "/")
    assert creator.post(f"/share/links/{ShareLink.objects.get().pk}/revoke/").status_code == 302
    response = Client().get(f"/shared/{token}/")
    assert response.status_code == 410 and "has revoked it" in response.content.decode()


@pytest.mark.django_db
def test_a_disabled_creators_links_stop_working(users, client_for):
    token = make_link(client_for(users["alpha"]), "/")
    users["alpha"].is_active = False
    users["alpha"].save()
    assert Client().get(f"/shared/{token}/").status_code == 410


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/settings/", "/admin/", "/admin/org/user/", "/share/links/", "/no-such-page/"])
def test_a_stored_link_to_a_page_that_may_not_be_shared_opens_nothing(users, path):
    """Were one written to the database by other means, it would still not open the page."""
    token = "t" * 43
    ShareLink.objects.create(token_hash=sharing.token_hash(token), path=path, created_by=users["admin"],
                             expires_at=timezone.now() + timedelta(days=1))  # fmt: skip
    response = Client().get(f"/shared/{token}/")
    assert response.status_code == 404 and "cannot be shown through a link" in response.content.decode()
    assert ShareLink.objects.get().views == 0


@pytest.mark.django_db
def test_a_shared_page_speaks_the_visitors_language(users, client_for):
    token = make_link(client_for(users["analyst"]), "/")
    page = Client(headers={"Accept-Language": "tr"}).get(f"/shared/{token}/").content.decode()
    assert '<html lang="tr">' in page


# --- the list of links ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_ones_own_links_with_their_views(users, client_for):
    analyst = client_for(users["analyst"])
    token = make_link(analyst, "/?period=30d", title="Monthly look")
    make_link(client_for(users["alpha"]), "/", title="Anka's own")
    Client().get(f"/shared/{token}/")

    page = analyst.get("/share/links/").content.decode()

    assert "Monthly look" in page and "Anka&#x27;s own" not in page and "Anka's own" not in page
    row = re.search(r"<tr>\s*<td><a href=\"/\?period=30d\">Monthly look</a>.*?</tr>", page, re.S)[0]
    assert re.search(r'<td class="int"[^>]*>1</td>', row) and "works" in row and "Revoke" in row


@pytest.mark.django_db
def test_the_list_says_when_there_are_no_links(users, client_for):
    page = client_for(users["viewer"]).get("/share/links/").content.decode()
    assert "You have not shared any page yet" in page


@pytest.mark.django_db
def test_nobody_revokes_anothers_link(users, client_for):
    token = make_link(client_for(users["alpha"]), "/")
    link = ShareLink.objects.get()
    assert client_for(users["zeta"]).post(f"/share/links/{link.pk}/revoke/").status_code == 404
    assert client_for(users["zeta"]).get(f"/share/links/{link.pk}/revoke/").status_code == 405
    assert Client().get(f"/shared/{token}/").status_code == 200


@pytest.mark.django_db
def test_revoked_links_show_as_revoked_without_a_button(users, client_for):
    analyst = client_for(users["analyst"])
    make_link(analyst, "/")
    analyst.post(f"/share/links/{ShareLink.objects.get().pk}/revoke/")
    page = analyst.get("/share/links/").content.decode()
    assert "revoked" in page and ">Revoke<" not in page


# --- the admin ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admins_see_and_revoke_links_in_the_admin_without_their_token(users, client_for):
    token = make_link(client_for(users["alpha"]), "/")
    admin = client_for(users["admin"])
    listing = admin.get("/admin/web/sharelink/").content.decode()
    link = ShareLink.objects.get()
    assert "alpha-user" in listing and link.token_hash not in listing and token not in listing
    assert admin.get("/admin/web/sharelink/add/").status_code == 403
    admin.post("/admin/web/sharelink/", {"action": "revoke", "_selected_action": [link.pk]})
    assert Client().get(f"/shared/{token}/").status_code == 410
    assert admin.get("/admin/web/reportsubscription/").status_code == 200


@pytest.mark.django_db
def test_the_service_refuses_what_the_form_refuses(users):
    with pytest.raises(sharing.ShareRefused):
        sharing.create_link(users["admin"], "/settings/")
    with pytest.raises(sharing.ShareRefused):
        sharing.create_link(users["admin"], "/", days=sharing.MAX_DAYS + 1)
    link, token = sharing.create_link(users["admin"], "/?period=30d")
    assert sharing.live_link(token) == link and users["admin"].role == Role.ADMIN
