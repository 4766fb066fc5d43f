"""The invitation e-mail: 11 score links in the HTML and the plain-text part, in the employee's language."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from itxm.surveys.models import Invitation, SurveyTemplate
from itxm.surveys.tokens import answer_token, unsubscribe_token

SCORES = range(11)


@dataclass(frozen=True)
class ComposedEmail:
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    message_id: str


def absolute(path: str) -> str:
    return settings.BASE_URL + path


def ticket_label(invitation: Invitation) -> str:
    ticket = invitation.ticket
    if ticket is None:
        return ""
    return f"{ticket.number} “{ticket.short_description}”" if ticket.short_description else ticket.number


def compose_invitation(invitation: Invitation, template: SurveyTemplate) -> ComposedEmail:
    token = answer_token(invitation.pk, invitation.nonce)
    language = invitation.language
    unsubscribe_url = absolute(reverse("surveys:unsubscribe", args=[token_for_unsubscribe(invitation)]))
    score_links = [(score, absolute(reverse("surveys:score", args=[token, score]))) for score in SCORES]
    with override(language):
        question = template.text("score_question", language) % {"ticket": ticket_label(invitation)}
        number = invitation.ticket.number if invitation.ticket else ""
        if number:
            subject = _("Your ticket %(number)s is resolved: how did it go?") % {"number": number}
        else:
            subject = _("How is IT working for you?")
        context = {
            "employee": invitation.employee,
            "question": question,
            "score_links": score_links,
            "survey_url": absolute(reverse("surveys:survey", args=[token])),
            "unsubscribe_url": unsubscribe_url,
            "closes_at": invitation.closes_at,
            "language": language,
        }
        text = render_to_string("surveys/email/invitation.txt", context)
        html = render_to_string("surveys/email/invitation.html", context)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "itxm.invalid"
    message_id = f"<survey-{invitation.pk}-{uuid.uuid4().hex}@{domain}>"
    headers = {"List-Unsubscribe": f"<{unsubscribe_url}>", "Auto-Submitted": "auto-generated"}
    # A subject is one line: a ticket's text must not smuggle in a header.
    return ComposedEmail(" ".join(subject.split())[:300], text, html, headers, message_id)


def token_for_unsubscribe(invitation: Invitation) -> str:
    return unsubscribe_token(invitation.employee_id)
