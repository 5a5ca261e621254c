"""Typed refusals of the decisions app (stable `code`s for API clients; messages in the
user's language)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from leitplanke.core.errors import Conflict, PermissionDenied, ValidationFailed


class SelfApprovalRefused(PermissionDenied):
    code = "self_approval"
    default_message = _("You cannot approve, reject or send back your own decision.")


class AuthorityInsufficient(PermissionDenied):
    code = "authority_insufficient"
    default_message = _("Your own authority does not cover this decision.")


class NotApprover(PermissionDenied):
    code = "not_approver"
    default_message = _("You may not decide on this approval request.")


class ApprovalAlreadyDecided(Conflict):
    code = "approval_already_decided"
    default_message = _("This approval request has already been decided.")


class CommentRequired(ValidationFailed):
    code = "comment_required"
    default_message = _("Please give a comment: rejecting or sending back needs a reason.")
