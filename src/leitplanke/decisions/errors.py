"""Typed refusals of the decisions app: the decision-table services and the evaluation API, the
authority and approval services.

Each is a `DomainError` with a stable `code` (API clients and the editor branch on it), the HTTP
status the API answers with and a message in the user's language; `field_errors` name the place
of every problem (`jdm/rules[3] (r-small).disputed_amount`, `tests/high amount`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from leitplanke.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed


class TableInvalid(ValidationFailed):
    """The JDM document or its test cases have problems (each with its place)."""

    code = "table_invalid"
    default_message = _("The decision table has problems.")


class TableTestsFailing(ValidationFailed):
    """Publishing refused: test cases fail (each failing case named)."""

    code = "table_tests_failing"
    default_message = _("Test cases of the decision table fail.")


class TableUntested(ValidationFailed):
    """Publishing refused: a table without test cases is not published."""

    code = "table_untested"
    default_message = _("A decision table needs at least one test case before it is published.")


class TableNotDraft(Conflict):
    """Only a draft can be changed, published or deleted (published versions never change)."""

    code = "table_not_draft"
    default_message = _("Only a draft can be changed; create a new version.")


class TableNotPublished(Conflict):
    """Retiring a version that is not the published one."""

    code = "table_not_published"
    default_message = _("Only the published version can be retired.")


class TableKeyExists(Conflict):
    code = "table_key_exists"
    default_message = _("A decision table with this key exists; create a new version of it instead.")


class DraftExists(Conflict):
    """A key has at most one draft at a time: edit it or delete it first."""

    code = "table_draft_exists"
    default_message = _("This decision table already has a draft.")


class NoPublishedTable(NotFound):
    code = "no_published_version"
    default_message = _("This decision table has no published version.")


class EvaluationInputInvalid(DomainError):
    """The inputs could not be evaluated (a value the engine cannot read)."""

    code = "evaluation_input_invalid"
    status = 422
    default_message = _("The inputs could not be evaluated.")


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
