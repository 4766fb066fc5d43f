"""Share links: make one for the page in view, list and revoke one's links, and open a link.

A link shows its page read-only, as its creator sees it now: the view runs with the creator as the user,
so the page's scope is the creator's current scope (``pages.reader_scope``), and with the query string
that was shared (plus the download keys). Anything else, a POST included, is refused.
"""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from itxm.web import sharing


def share_create(request):
    """Step one (from a page's "Share a link" button): ask for the expiry. Step two: make the link."""
    if request.method != "POST":
        return redirect("share_links")
    asked = request.POST.get("path", "")
    try:
        page = sharing.shared_page(asked)
    except sharing.ShareRefused as refused:
        return render(request, "web/sharing/refused.html", {"reason": str(refused)}, status=400)
    form = {"path": page.full_path, "label": page.label, "days": sharing.DEFAULT_DAYS,
            "title": page.label, "max_days": sharing.MAX_DAYS}  # fmt: skip
    if "days" not in request.POST:
        return render(request, "web/sharing/create.html", {"form": form})
    form |= {"days": request.POST["days"], "title": request.POST.get("title", "").strip()}
    try:
        link, token = sharing.create_link(request.user, page.full_path, form["days"], form["title"])
    except sharing.ShareRefused as refused:
        return render(request, "web/sharing/create.html", {"form": form, "error": str(refused)})
    url = request.build_absolute_uri(reverse("shared", args=[token]))
    response = render(request, "web/sharing/created.html", {"link": link, "url": url, "title": sharing.title_of(link)})
    response["Cache-Control"] = "no-store"  # the token is shown once: not kept by the browser's cache
    return response


def share_links(request):
    return render(request, "web/sharing/links.html", {"links": sharing.links_of(request.user)})


@require_POST
def share_revoke(request, link_id: int):
    try:
        sharing.revoke_link(request.user, link_id)
    except sharing.LinkNotFound:
        return render(request, "web/sharing/gone.html", {"reason": "unknown"}, status=404)
    return redirect("share_links")


@login_not_required
def shared(request, token: str):
    """A shared page, for anyone holding the link, signed in or not."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    try:
        link = sharing.live_link(token)
        page = sharing.shared_page(link.path)
    except sharing.LinkNotFound:
        return _gone(request, "unknown", 404)
    except sharing.LinkGone as gone:
        return _gone(request, "revoked" if gone.link.revoked_at else "expired", 410)
    except sharing.ShareRefused:
        return _gone(request, "refused", 404)
    sharing.record_view(link)
    request.share_link = link
    request.user = link.created_by
    request.GET = sharing.visitor_query(page, request.GET)
    response = page.view(request, *page.args, **page.kwargs)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request, reason: str, status: int):
    response = render(request, "web/sharing/gone.html", {"reason": reason}, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


urlpatterns = [
    path("share/", share_create, name="share_create"),
    path("share/links/", share_links, name="share_links"),
    path("share/links/<int:link_id>/revoke/", share_revoke, name="share_revoke"),
    path("shared/<str:token>/", shared, name="shared"),
]
