import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_login_page_speaks_turkish_when_the_browser_asks_for_it():
    page = Client(headers={"Accept-Language": "tr-TR,tr;q=0.9"}).get("/login/").content.decode()
    assert '<html lang="tr">' in page
    assert "ITXM'e giriş yapın" in page and "Parola" in page


@pytest.mark.django_db
def test_the_language_switch_changes_the_language_and_returns_to_the_page(users, client_for):
    client = client_for(users["viewer"])
    assert "Overview" in client.get("/").content.decode()

    switched = client.post("/i18n/setlang/", {"language": "tr", "next": "/"})

    assert switched.status_code == 302 and switched["Location"] == "/"
    page = client.get("/").content.decode()
    assert "Genel bakış" in page and "Çıkış yap" in page


@pytest.mark.django_db
def test_turkish_role_names_keep_their_dotted_capital_i(users, client_for):
    client = client_for(users["viewer"])
    client.post("/i18n/setlang/", {"language": "tr", "next": "/"})
    assert "İzleyici" in client.get("/").content.decode()
