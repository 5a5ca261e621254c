"""The links of the maturity check: resume links of answer sets and invitation links of
campaigns, and what makes them expire.

- A resume link carries a random secret; only its SHA-256 is stored, so the database
  alone does not open anyone's answers. An anonymous public check's link expires
  PUBLIC_LINK_VALID after its last change (and the answers are then pruned).
- An invitation link is signed (campaign, group, the campaign's link nonce): a changed
  link fails the signature, renewing the links changes the nonce, closing the campaign or
  passing its end date expires them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leitplanke.core.errors import DomainError, NotFound

from .models import Assessment, Campaign, Group

PUBLIC_LINK_VALID = dt.timedelta(days=90)
INVITE_SALT = "leitplanke.maturity.invitation"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class LinkExpired(DomainError):
    code = "link_expired"
    status = 410
    default_message = _("This link has expired.")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def assessment_for_token(token: str) -> Assessment:
    """The answer set of a resume link; NotFound for a link that never existed (or was
    changed), LinkExpired for one that did but is too old."""
    if not TOKEN_RE.match(token or ""):
        raise NotFound()
    assessment = Assessment.objects.select_related("campaign").filter(token_hash=token_hash(token)).first()
    if assessment is None:
        raise NotFound()
    anonymous_public = assessment.campaign_id is None and assessment.owner_id is None
    if anonymous_public and assessment.updated_at < timezone.now() - PUBLIC_LINK_VALID:
        raise LinkExpired()
    return assessment


def require_open(campaign: Campaign) -> None:
    """Campaign responses can be started and changed only while the campaign is open."""
    if campaign.status != Campaign.Status.OPEN or (campaign.closes_at is not None and campaign.closes_at <= timezone.now()):
        raise LinkExpired(_("This survey is closed; answers can no longer be given."))


def invitation_token(campaign: Campaign, group: str) -> str:
    return signing.dumps([campaign.pk, group, campaign.link_nonce], salt=INVITE_SALT, compress=True)


def campaign_for_invitation(token: str) -> tuple[Campaign, str]:
    """The open campaign and group of an invitation link; NotFound for a changed or unknown
    link, LinkExpired for a renewed link or a closed campaign."""
    try:
        campaign_id, group, nonce = signing.loads(token, salt=INVITE_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound() from None
    campaign = Campaign.objects.filter(pk=campaign_id).first() if isinstance(campaign_id, int) else None
    if campaign is None or group not in Group.values:
        raise NotFound()
    if nonce != campaign.link_nonce:
        raise LinkExpired(_("This invitation link was replaced by a new one. Please ask for the current link."))
    require_open(campaign)
    return campaign, group
