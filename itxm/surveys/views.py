"""The public survey pages: reached from an e-mail, no sign-in; the signed token in the link is the key.

Every way a link can be wrong ends on a page that says so, with a status a client can act on:
400 altered, 404 unknown, 410 expired or closed. CSRF stays on for the forms: the token in the URL
names the survey, it does not prove the browser meant to post.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import http_date, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from itxm.org.models import Language
from itxm.surveys import campaigns, services

PROBLEMS = {
    services.BadToken: (
        400,
        _("This link is not valid"),
        _("It may have been cut short or changed. Please open the link from your e-mail again."),
    ),
    services.UnknownInvitation: (
        404,
        _("Survey not found"),
        _("We could not find this survey. It may have been withdrawn."),
    ),
    services.ExpiredToken: (
        410,
        _("This survey has closed"),
        _("The time to answer it has passed. Thank you all the same."),
    ),
    services.SurveyClosed: (410, _("This survey has closed"), _("It no longer takes answers. Thank you all the same.")),
    services.InvalidAnswer: (400, _("That answer is not possible"), _("Please choose one of the answers offered.")),
}


LANGUAGES = frozenset(Language.values)


def _language(request, fallback: str | None = None) -> str | None:
    wanted = request.GET.get("lang") or (request.POST.get("lang") if request.method == "POST" else None)
    return wanted if wanted in LANGUAGES else fallback


def _problem(request, exc: Exception):
    status, title, detail = PROBLEMS[type(exc)]
    language = _language(request) or translation.get_language()
    with translation.override(language):
        return render(
            request,
            "surveys/problem.html",
            {
                "title": str(title),
                "detail": str(detail),
                "language": language,
                "switch": _switch(request.path, language),
            },
            status=status,
        )


def _switch(path: str, language: str) -> list[dict]:
    names = {"en": "English", "tr": "Türkçe"}
    return [
        {"code": code, "name": names[code], "url": f"{path}?{urlencode({'lang': code})}", "current": code == language}
        for code in Language.values
    ]


def _client(request) -> tuple[str | None, str]:
    return request.META.get("REMOTE_ADDR"), request.headers.get("User-Agent", "")


@login_not_required
@require_GET
def score(request, token: str, score: int):
    """One click in the e-mail: record the score, then show the rest of the survey."""
    ip, agent = _client(request)
    language = _language(request)
    try:
        services.answer_score(token, score, ip, agent, language)
    except tuple(PROBLEMS) as exc:
        return _not_cached(_problem(request, exc))
    # The survey page is this link without its score (urls.py keeps them so): cheaper than reverse(), which
    # costs more than recording the answer does.
    survey_page = request.path.rpartition("/")[0]
    return _not_cached(HttpResponseRedirect(f"{survey_page}?saved=1" + (f"&lang={language}" if language else "")))


NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def _not_cached(response):
    """The headers of ``never_cache``, set without merging them into what is there (nothing is, here)."""
    response.headers["Expires"] = http_date()
    response.headers["Cache-Control"] = NEVER_CACHE
    return response


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    language = _language(request)
    if request.method == "POST":
        ip, agent = _client(request)
        try:
            services.complete(
                token,
                score=_int(request.POST.get("score")),
                lost_minutes=_int(request.POST.get("lost_minutes")),
                factors=request.POST.getlist("factors"),
                comment=request.POST.get("comment", ""),
                language=language,
                ip=ip,
                user_agent=agent,
            )
        except tuple(PROBLEMS) as exc:
            return _problem(request, exc)
        return redirect(
            reverse("surveys:thanks", args=[token]) + ("?" + urlencode({"lang": language}) if language else "")
        )
    try:
        page = services.survey_page(token, language)
    except tuple(PROBLEMS) as exc:
        return _problem(request, exc)
    with translation.override(page.language):
        return render(
            request,
            "surveys/survey.html",
            {
                "page": page,
                "scores": range(11),
                "saved": request.GET.get("saved") == "1",
                "language": page.language,
                "switch": _switch(request.path, page.language),
            },
        )


def _int(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # out of every range: refused as an invalid answer


@login_not_required
@never_cache
@require_GET
def thanks(request, token: str):
    try:
        page = services.survey_page(token, _language(request))
    except tuple(PROBLEMS) as exc:
        return _problem(request, exc)
    with translation.override(page.language):
        return render(
            request,
            "surveys/thanks.html",
            {"page": page, "language": page.language, "switch": _switch(request.path, page.language)},
        )


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks, POST does it: mail scanners follow links, and must not opt anyone out."""
    try:
        found = services.unsubscribe(token) if request.method == "POST" else services.subscriber(token)
    except tuple(PROBLEMS) as exc:
        return _problem(request, exc)
    language = _language(request, found.language if found.language in Language.values else None) or "en"
    with translation.override(language):
        return render(
            request,
            "surveys/unsubscribe.html",
            {
                "subscriber": found,
                "done": request.method == "POST",
                "language": language,
                "switch": _switch(request.path, language),
            },
        )


PROBLEMS[campaigns.LinkLimitReached] = (
    429,
    _("Too many answers from your network"),
    _("This link has been answered very often from where you are. Thank you all the same."),
)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def campaign_link(request, token: str):
    """A campaign's shared link: anyone with it may answer once per browser (a cookie keeps their answer)."""
    run_id = campaigns.run_for_link(token)
    previous = request.COOKIES.get(campaigns.link_cookie(run_id)) if run_id else None
    language = _language(request)
    try:
        if request.method == "POST":
            ip, agent = _client(request)
            own = campaigns.answer_by_link(
                token, _int(request.POST.get("score")), previous, ip, agent, language or translation.get_language()
            )
        else:
            run = campaigns.open_link(token)
            own = previous if previous and campaigns._own_invitation(previous, run) else None
            if own is None:
                return _link_form(request, token, run, language)
    except tuple(PROBLEMS) as exc:
        return _problem(request, exc)
    query = {"saved": "1"} | ({"lang": language} if language else {})
    response = redirect(reverse("surveys:survey", args=[own]) + "?" + urlencode(query))
    response.set_cookie(
        campaigns.link_cookie(run_id),
        own,
        max_age=int(services.config.open_period().total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def _link_form(request, token: str, run, language: str | None):
    language = language or translation.get_language()
    if language not in Language.values:
        language = Language.ENGLISH
    template = services.template_for(run.campaign.kind)
    with translation.override(language):
        return render(
            request,
            "surveys/campaign_link.html",
            {
                "token": token,
                "question": template.text("score_question", language) % {"ticket": ""},
                "scores": range(11),
                "language": language,
                "switch": _switch(request.path, language),
            },
        )
