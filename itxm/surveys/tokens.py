"""Signed links in survey e-mails: they need no sign-in, so the signature and the expiry are the lock.

An answer token carries the invitation id and its random nonce, signed with the secret key and a
timestamp (``django.core.signing``, HMAC-SHA256). It is refused when altered (``BadToken``), when older
than the survey's open period (``ExpiredToken``), and when it names no invitation or the nonce does not
match (``UnknownInvitation``): a leaked secret key alone is not enough to forge a working link.
Unsubscribe tokens carry the employee id and do not expire: an unsubscribe link must keep working.
"""

from django.core import signing

from itxm.surveys.config import open_period

ANSWER_SALT = "itxm.surveys.answer"
UNSUBSCRIBE_SALT = "itxm.surveys.unsubscribe"


class TokenError(Exception):
    """A link that cannot be used; the subclass says why."""


class BadToken(TokenError):
    """Altered, truncated or not a survey link at all."""


class ExpiredToken(TokenError):
    """Genuine, but older than the survey's open period."""


class UnknownInvitation(TokenError):
    """Genuine signature, but no such invitation (deleted, or the nonce no longer matches)."""


def answer_token(invitation_id: int, nonce: str) -> str:
    return signing.dumps([invitation_id, nonce], salt=ANSWER_SALT, compress=False)


def read_answer_token(token: str) -> tuple[int, str]:
    """The invitation id and nonce; ``BadToken`` or ``ExpiredToken`` otherwise."""
    try:
        value = signing.loads(token, salt=ANSWER_SALT, max_age=open_period())
    except signing.SignatureExpired as exc:
        raise ExpiredToken(str(exc)) from exc
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise BadToken(str(exc)) from exc
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        raise BadToken("not an answer token")
    return value[0], value[1]


def unsubscribe_token(employee_id: int) -> str:
    return signing.dumps(employee_id, salt=UNSUBSCRIBE_SALT, compress=False)


def read_unsubscribe_token(token: str) -> int:
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise BadToken(str(exc)) from exc
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadToken("not an unsubscribe token")
    return value
