import pytest
from django.test import Client

from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_pages_need_a_signed_in_user(org):
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/")


@pytest.mark.django_db
def test_sign_in_with_the_form_and_see_the_overview(users):
    client = Client(enforce_csrf_checks=True)
    form = client.get("/login/")
    token = form.cookies["csrftoken"].value
    assert 'name="csrfmiddlewaretoken"' in form.content.decode()

    signed_in = client.post(
        "/login/", {"username": "alpha-user", "password": PASSWORD, "csrfmiddlewaretoken": token}, follow=True
    )

    page = signed_in.content.decode()
    assert signed_in.status_code == 200 and "Overview" in page
    assert "You see the data of Alpha Outsourcing" in page


@pytest.mark.django_db
def test_a_wrong_password_says_so(users):
    response = Client().post("/login/", {"username": "admin", "password": "nope"})
    assert response.status_code == 200
    assert "The user name or password is not right" in response.content.decode()


@pytest.mark.django_db
def test_login_form_without_csrf_token_is_refused(users):
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(users):
    assert users["viewer"].password.startswith("argon2$")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["analyst", "viewer", "alpha", "owner"])
def test_the_django_admin_is_for_admins_only(users, client_for, role):
    assert client_for(users[role]).get("/admin/org/group/").status_code == 302
    assert client_for(users["admin"]).get("/admin/org/group/").status_code == 200


@pytest.mark.django_db
def test_user_text_is_escaped(users, client_for):
    users["alpha"].supplier.name = "<script>alert(1)</script>"
    users["alpha"].supplier.save()
    page = client_for(users["alpha"]).get("/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
def test_health_check_is_public():
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.mark.django_db
def test_a_fresh_installation_shows_an_empty_state(db, client_for):
    from itxm.org.services import create_user

    admin = create_user("first", PASSWORD, "admin")
    page = client_for(admin).get("/").content.decode()
    assert "No data yet" in page and "itxm demo" in page


@pytest.mark.django_db
def test_vendored_front_end_packages_are_served_locally(client_for, users):
    client = client_for(users["viewer"])
    page = client.get("/").content.decode()
    assert "/static/vendor/htmx.org/htmx.min.js" in page
    assert client.get("/static/vendor/htmx.org/htmx.min.js").status_code == 200
    assert client.get("/static/vendor/echarts/echarts.min.js").status_code == 200


@pytest.mark.django_db
def test_pages_give_their_icon_so_that_browsers_do_not_ask_for_a_missing_favicon():
    # Without <link rel="icon"> every browser asks for /favicon.ico on a first visit: a 404 in its console.
    assert Client().get("/favicon.ico").status_code == 404
    for response in (Client().get("/login/"), Client().get("/you-said-we-did/"), Client().get("/s/not-a-token")):
        assert '<link rel="icon" href="data:,">' in response.content.decode()
