"""The public "you said, we did" page: what people told IT, what IT did about it, and what changed.

Anyone may read it, signed in or not; it shows only the initiatives marked public, never a person.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.views.decorators.http import require_GET

from itxm.analytics import initiatives
from itxm.analytics.models import InitiativeStatus
from itxm.web.views.initiatives import with_unit

LANGUAGES = dict(settings.LANGUAGES)


@login_not_required
@require_GET
def you_said_we_did(request):
    # ``?lang=tr`` links between the languages: the page may be put on a screen or sent around as a link.
    chosen = request.GET.get("lang")
    language = chosen if chosen in LANGUAGES else translation.get_language()
    with translation.override(language):
        items = [_item(found) for found in initiatives.you_said_we_did()]
        context = {"items": items, "menu": [], "languages": [(code, _native(code)) for code in LANGUAGES]}
        response = render(request, "web/public/you_said_we_did.html", context)
        response["Content-Language"] = language
    if chosen in LANGUAGES:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, samesite="Lax")
    return response


def _native(code: str) -> str:
    return {"tr": "Türkçe", "en": "English"}.get(code, code)


def _item(found: initiatives.PublicInitiative) -> dict:
    status = InitiativeStatus(found.status).label if found.status in InitiativeStatus.values else found.status
    direction = {"improved": "good", "worsened": "bad"}.get(found.direction or "", "neutral")
    return {"initiative": found, "status": status, "direction": direction, "effect": _effect(found)}


def _effect(found: initiatives.PublicInitiative) -> str | None:
    """E.g. "Reopen rate: 14,7 % → 3,7 % (improved)", its numbers written as the reader's language writes them."""
    if not found.effect or found.value_before is None or found.value_after is None:
        return None
    return initiatives.effect_sentence(found.metric, found.value_before, found.value_after, found.direction, with_unit)


urlpatterns = [path("you-said-we-did/", you_said_we_did, name="you_said_we_did")]
