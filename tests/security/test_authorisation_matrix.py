"""The authorisation matrix: every HTML view Django resolves and every API operation of the
OpenAPI document, asked by anonymous and by every shipped role, for an object in each scope.

A URL pattern or API operation without a row here fails `test_every_url_pattern_has_a_row`
/ `test_every_api_operation_has_a_row`: a new page or operation adds its row.

How to read a row: one column per principal (anonymous, then the roles of
`tests/conftest.py::ROLE_KEYS`); each cell has one outcome per scope:
- case URLs (`case_id`): own team, other team, no team — the roles are members of the own team;
- a user's own object (`assessment_id`, `view_id`, `token_id`): own, another user's;
- public links (`token`, `invitation`): a valid link, a forged one;
- everything else: one scope.
Outcomes: A passed the authorisation (2xx, a redirect not to the login, 4xx for bad input),
F 403, N 404, L redirect to the login, U 401, G 410 (an expired or closed link), R refused
in words (a redirect with an error message, or a result page saying "not found", and
nothing changed).
HTML views are asked with GET and with an empty POST; where the two differ, HTML_POST
holds the POST row. A 405 (method not offered) matches any expectation; a 5xx never does.
Every request runs in a savepoint that is rolled back, so each meets the same objects.
Set MATRIX_PRINT=1 to print the observed rows (to review a change, never to copy blindly).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leitplanke.deadlines import selectors as deadline_selectors
from leitplanke.decisions import shipped as shipped_tables
from leitplanke.processes.shipped import COMPLAINT
from tests.security.matrix import (
    ALLOWED,
    NOT_FOUND,
    NOT_OFFERED,
    REFUSED,
    SERVER_ERROR,
    api_fill,
    api_operations,
    api_scopes_of,
    fill,
    html_routes,
    in_savepoint,
    outcome,
    scopes_of,
)
from tests.security.world import PRINCIPALS, World, client_of, shared_world

pytestmark = pytest.mark.django_db

# fmt: off
# The roles get the same answers on every page of a kind; the kinds, written out once:
#                      anonymous agent  lead   po     qm     admin  auditor
PUBLIC =              ("A",      "A",   "A",   "A",   "A",   "A",   "A")
LOGGED_IN =           ("L",      "A",   "A",   "A",   "A",   "A",   "A")
ADMIN =               ("L",      "F",   "F",   "F",   "F",   "A",   "F")
ADMIN_OR_AUDIT =      ("L",      "F",   "F",   "F",   "A",   "A",   "A")
CASE_READERS =        ("L",      "A",   "A",   "A",   "A",   "A",   "A")
CASE_EDITORS =        ("L",      "A",   "A",   "F",   "A",   "A",   "F")
EXPORTERS =           ("L",      "F",   "A",   "A",   "A",   "A",   "F")
CUSTOMER_EDITORS =    ("L",      "A",   "A",   "F",   "A",   "A",   "F")
MERGERS =             ("L",      "F",   "F",   "F",   "A",   "A",   "F")
SENSITIVE =           ("L",      "F",   "A",   "F",   "A",   "A",   "A")
PRODUCT_EDITORS =     ("L",      "F",   "F",   "A",   "F",   "A",   "F")
TEMPLATE_EDITORS =    ("L",      "F",   "F",   "A",   "F",   "A",   "F")
MATURITY_VIEWERS =    ("L",      "F",   "A",   "A",   "A",   "A",   "A")
MATURITY_MANAGERS =   ("L",      "F",   "F",   "F",   "A",   "A",   "F")
NOBODY =              ("N",      "N",   "N",   "N",   "N",   "N",   "N")
SETTINGS_INDEX =      ("L",      "F",   "F",   "A",   "A",   "A",   "A")
NO_REPORT_YET =       ("L",      "F",   "N",   "N",   "N",   "N",   "N")
PROCESS_DESIGNERS =   ("L",      "F",   "F",   "A",   "F",   "A",   "F")
# quality.view or teams.lead (leads see their teams' figures only: scoped in the selector)
QUALITY_READERS =     ("L",      "F",   "A",   "A",   "A",   "A",   "A")
# teams.lead or org.manage; the lead of a team whatever their role too (tests/decisions/test_approvals_badge.py)
APPROVERS =           ("L",      "F",   "A",   "F",   "F",   "A",   "F")
# The badge's htmx fragment: 403, not the login page, for a signed-out browser (htmx would swap it in)
APPROVERS_FRAGMENT =  ("F",      "F",   "A",   "F",   "F",   "A",   "F")
# Cases by scope (own team, other team, no team): team roles see their team's cases only.
CASE_VIEW =           ("L",      "ANN", "ANN", "AAA", "AAA", "AAA", "AAA")
CASE_EDIT =           ("L",      "ANN", "ANN", "FFF", "AAA", "AAA", "FFF")
# Bulk actions: a case the user cannot see is reported "not found" in the result page (R).
CASE_BULK =           ("L",      "ARR", "ARR", "FFF", "AAA", "AAA", "FFF")
# A user's own objects (own, another user's).
OWN_ONLY =            ("L",      "AN",  "AN",  "AN",  "AN",  "AN",  "AN")
# Public links (valid, forged).
LINK =                ("AN",     "AN",  "AN",  "AN",  "AN",  "AN",  "AN")

HTML: dict[str, tuple[str, ...]] = {
    "healthz":                              PUBLIC,
    "readyz":                               PUBLIC,
    "api:openapi-json":                     PUBLIC,
    "api:openapi-view":                     PUBLIC,
    "api:api-root":                         NOBODY,  # ninja's root answers 404 (no listing)
    "core:home":                            LOGGED_IN,
    # accounts
    "accounts:login":                       PUBLIC,
    "accounts:logout":                      PUBLIC,
    "accounts:profile":                     LOGGED_IN,
    "accounts:set_language":                PUBLIC,
    "accounts:token_create":                LOGGED_IN,
    "accounts:token_revoke":                OWN_ONLY,
    "accounts:password_change":             LOGGED_IN,
    "accounts:password_reset":              PUBLIC,
    "accounts:password_reset_done":         PUBLIC,
    "accounts:password_reset_confirm":      PUBLIC,
    "accounts:password_reset_complete":     PUBLIC,
    # settings
    "settings:index":                       SETTINGS_INDEX,  # shows the cards each role may open
    "settings:organisation":                ADMIN,
    "settings:users":                       ADMIN,
    "settings:user_create":                 ADMIN,
    "settings:user_edit":                   ADMIN,
    "settings:user_password_link":          ADMIN,
    "settings:user_skill_add":              ADMIN,
    "settings:user_skill_remove":           ADMIN,
    "settings:user_absence_add":            ADMIN,
    "settings:absences":                    ADMIN,
    "settings:absence_delete":              ADMIN,
    "settings:teams":                       ADMIN,
    "settings:team_create":                 ADMIN,
    "settings:team_edit":                   ADMIN,
    "settings:roles":                       ADMIN,
    "settings:role_create":                 ADMIN,
    "settings:role_edit":                   ADMIN,
    "settings:skills":                      ADMIN,
    "settings:tasks":                       ADMIN,
    "settings:audit":                       ADMIN_OR_AUDIT,
    "settings:brands":                      ADMIN,
    # authority limits (docs/decisions.md, Authority): administrators; my authority: everyone
    "authority_settings:list":              ADMIN,
    "authority_settings:create":            ADMIN,
    "authority_settings:edit":              ADMIN,
    "authority_settings:delete":            ADMIN,
    "approvals:my_authority":               LOGGED_IN,
    "approvals:inbox":                      APPROVERS,
    "approvals:badge":                      APPROVERS_FRAGMENT,
    "approvals:decide":                     APPROVERS,
    "settings:brand_create":                ADMIN,
    "settings:brand_edit":                  ADMIN,
    "deadlines:settings":                   ADMIN,
    # the process editor (docs/processes.md): processes.manage
    "processes:index":                      PROCESS_DESIGNERS,
    "processes:import":                     PROCESS_DESIGNERS,
    "processes:compare":                    PROCESS_DESIGNERS,
    "processes:validate":                   PROCESS_DESIGNERS,
    "processes:version":                    PROCESS_DESIGNERS,
    "processes:publish":                    PROCESS_DESIGNERS,
    "processes:new_draft":                  PROCESS_DESIGNERS,
    "processes:delete":                     PROCESS_DESIGNERS,
    "processes:export":                     PROCESS_DESIGNERS,
    "processes:try":                        PROCESS_DESIGNERS,
    "processes:step":                       PROCESS_DESIGNERS,
    "processes:step_new":                   PROCESS_DESIGNERS,
    "processes:step_delete":                PROCESS_DESIGNERS,
    "processes:state_new":                  PROCESS_DESIGNERS,
    "processes:state":                      PROCESS_DESIGNERS,
    "processes:state_delete":               PROCESS_DESIGNERS,
    "processes:initial":                    PROCESS_DESIGNERS,
    "processes:escalation":                 PROCESS_DESIGNERS,
    # the decision table editor (docs/decisions.md): processes.manage
    "decisions:index":                      PROCESS_DESIGNERS,
    "decisions:new":                        PROCESS_DESIGNERS,
    "decisions:import":                     PROCESS_DESIGNERS,
    "decisions:table":                      PROCESS_DESIGNERS,
    "decisions:compare":                    PROCESS_DESIGNERS,
    "decisions:version":                    PROCESS_DESIGNERS,
    "decisions:check":                      PROCESS_DESIGNERS,
    "decisions:try":                        PROCESS_DESIGNERS,
    "decisions:publish":                    PROCESS_DESIGNERS,
    "decisions:retire":                     PROCESS_DESIGNERS,
    "decisions:new_version":                PROCESS_DESIGNERS,
    "decisions:delete":                     PROCESS_DESIGNERS,
    "decisions:export":                     PROCESS_DESIGNERS,
    "decisions:export_tests":               PROCESS_DESIGNERS,
    "catalog:case_types":                   ADMIN,
    "catalog:case_type_create":             ADMIN,
    "catalog:case_type_edit":               ADMIN,
    "catalog:custom_field_create":          ADMIN,
    "catalog:custom_field_edit":            ADMIN,
    "catalog:categories":                   ADMIN,
    "catalog:category_create":              ADMIN,
    "catalog:category_edit":                ADMIN,
    "maturity_settings:recommendations":    MATURITY_MANAGERS,
    "maturity_settings:recommendation_create": MATURITY_MANAGERS,
    "maturity_settings:recommendation_edit": MATURITY_MANAGERS,
    "maturity_settings:contacts":           MATURITY_MANAGERS,
    # a contact request of the public check (own), an in-app check without one (other): not found
    "maturity_settings:contact_erase":      ("L",      "F",   "F",   "F",   "AN",  "AN",  "F"),
    # cases
    "case_list:list":                       CASE_READERS,
    "case_list:bulk":                       CASE_BULK,  # the case is posted; scopes as for case URLs
    # a user whose roles only read saves no views (issue 19 item 10): the auditor
    "case_list:saved_view_create":          ("L",      "A",   "A",   "A",   "A",   "A",   "F"),
    "case_list:saved_view_delete":          OWN_ONLY,
    "case_list:export_csv":                 EXPORTERS,
    "case_list:export_xlsx":                EXPORTERS,
    "cases:create":                         CASE_EDITORS,
    "cases:customer_lookup":                LOGGED_IN,  # the new-case form's search: empty for roles that create no cases
    "cases:detail":                         CASE_VIEW,
    "cases:edit":                           CASE_EDIT,
    "cases:transition":                     CASE_EDIT,
    "cases:note_add":                       CASE_EDIT,
    "cases:attachment_add":                 CASE_EDIT,
    "cases:attachment_download":            CASE_VIEW,
    "cases:watch":                          CASE_EDIT,  # read-only roles do not watch either
    "cases:timeline":                       CASE_VIEW,
    "cases:step":                           CASE_EDIT,  # the step form; read-only roles take no steps
    "cases:assign":                         CASE_EDIT,
    "cases:escalate":                       CASE_EDIT,  # raising a case needs the edit right on it
    "cases:clock_extend":                   CASE_EDIT,  # a holding reply is a change to the case
    # decision records on the case (the decision panel)
    "case_decisions:panel":                 CASE_VIEW,
    "case_decisions:create":                CASE_EDIT,
    # a lead of the decider's team or someone who sees all cases; never the decider (own: the agent's)
    "case_decisions:reverse":               ("L",      "FNN", "ANN", "FFF", "AAA", "AAA", "FFF"),
    # the decider (own: the agent's record), or whoever may reverse it
    "case_decisions:correct":               CASE_EDIT,
    # customers
    "customers:list":                       CASE_READERS,
    "customers:create":                     CUSTOMER_EDITORS,
    "customers:products":                   CASE_READERS,
    "customers:product_edit":               PRODUCT_EDITORS,
    "customers:detail":                     CASE_READERS,
    "customers:edit":                       CUSTOMER_EDITORS,
    "customers:merge":                      MERGERS,
    "customers:consent_create":             CUSTOMER_EDITORS,
    "customers:contract_create":            CUSTOMER_EDITORS,
    "customers:contract_end":               CUSTOMER_EDITORS,
    "customers:vulnerability_reason":       SENSITIVE,
    # public complaint form and status link
    "public:form":                          PUBLIC,
    "public:thanks":                        LINK,
    "public:status":                        LINK,
    "public:privacy":                       PUBLIC,
    "public:embed":                         PUBLIC,
    "public:embed_thanks":                  LINK,
    "public:logo":                          PUBLIC,
    "public:confirm":                       LINK,  # the contact confirmation link of the e-mail
    # a brand's public form (docs/public-pages.md)
    "brand:form":                           PUBLIC,
    "brand:thanks":                         LINK,
    "brand:embed":                          PUBLIC,
    "brand:embed_thanks":                   LINK,
    "brand:logo":                           PUBLIC,
    "brand:css":                            PUBLIC,
    # intake
    "intake:reply":                         CASE_EDIT,
    "intake:composer":                      CASE_EDIT,
    "intake:public_access":                 CASE_VIEW,  # readers see the link's state; POST below
    "intake:templates":                     TEMPLATE_EDITORS,
    "intake:template_create":               TEMPLATE_EDITORS,
    "intake:template_edit":                 TEMPLATE_EDITORS,
    "intake:template_active":               TEMPLATE_EDITORS,
    "intake:template_version":              TEMPLATE_EDITORS,
    "intake:mailboxes":                     ADMIN,
    "intake:mailbox_create":                ADMIN,
    "intake:mailbox_edit":                  ADMIN,
    "intake:mailbox_fetch":                 ADMIN,
    "intake:quarantine":                    ADMIN,
    "intake:inbound":                       ADMIN,
    "intake:inbound_raw":                   ADMIN,
    "intake:inbound_reprocess":             ADMIN,
    "intake:inbound_accept":                ADMIN,
    "intake:webhooks":                      ADMIN,
    "intake:webhook_create":                ADMIN,
    "intake:webhook_edit":                  ADMIN,
    "intake:webhook_redeliver":             ADMIN,
    # the public maturity check
    "check:intro":                          PUBLIC,
    "check:invitation":                     LINK,
    "check:resume":                         LINK,
    "check:step":                           LINK,
    "check:review":                         LINK,
    "check:result":                         LINK,
    "check:contact":                        LINK,
    "check:pdf":                            LINK,
    # the maturity check in the app
    "maturity:index":                       LOGGED_IN,
    "maturity:check_start":                 LOGGED_IN,
    "maturity:check":                       OWN_ONLY,
    "maturity:check_step":                  OWN_ONLY,
    "maturity:check_review":                OWN_ONLY,
    "maturity:check_pdf":                   ("L",      "NN",  "NN",  "NN",  "NN",  "NN",  "NN"),  # not completed: no report
    "maturity:campaigns":                   MATURITY_VIEWERS,
    "maturity:campaign_create":             MATURITY_MANAGERS,
    "maturity:campaign":                    MATURITY_VIEWERS,
    "maturity:campaign_edit":               MATURITY_MANAGERS,
    "maturity:campaign_close":              MATURITY_MANAGERS,
    "maturity:campaign_renew_links":        MATURITY_MANAGERS,
    "maturity:campaign_pdf":                NO_REPORT_YET,  # the campaign has no answers yet: no report
    "maturity:roadmaps":                    MATURITY_VIEWERS,
    "maturity:roadmap_create":              MATURITY_MANAGERS,
    "maturity:roadmap":                     MATURITY_VIEWERS,
    "maturity:roadmap_item_create":         MATURITY_MANAGERS,
    "maturity:roadmap_item_edit":           MATURITY_MANAGERS,
    "maturity:roadmap_item_delete":         MATURITY_MANAGERS,
    "maturity:roadmap_csv":                 MATURITY_VIEWERS,
    "maturity:roadmap_pdf":                 MATURITY_VIEWERS,
    # decisions: consistency analytics and the what-if simulation (docs/decisions.md)
    "decisions_analytics:consistency":      QUALITY_READERS,
    "decisions_analytics:records":          QUALITY_READERS,
    "decisions_analytics:simulations":      PROCESS_DESIGNERS,
    "decisions_analytics:simulation":       PROCESS_DESIGNERS,
}

# Where an empty POST is answered differently from a GET.
HTML_POST: dict[str, tuple[str, ...]] = {
    "accounts:logout":                      ("L",      "L",   "L",   "L",   "L",   "L",   "L"),  # back to the login page
    # another user's token: "not found" in words, nothing revoked
    "accounts:token_revoke":                ("L",      "AR",  "AR",  "AR",  "AR",  "AR",  "AR"),
    "customers:products":                   PRODUCT_EDITORS,  # POST adds a product
    "maturity:roadmap":                     MATURITY_MANAGERS,  # POST renames it
    "intake:public_access":                 CASE_EDIT,  # POST revokes the status link
    # the world's state is used by steps: deleting it is refused in words, nothing changes
    "processes:state_delete":               ("L",      "F",   "F",   "R",   "F",   "R",   "F"),
    # the world's table version is a draft: retiring it, or a second draft of its key, is refused in words
    "decisions:retire":                     ("L",      "F",   "F",   "R",   "F",   "R",   "F"),
    "decisions:new_version":                ("L",      "F",   "F",   "R",   "F",   "R",   "F"),
    # an in-app check the agent may not see is not found; other non-managers are refused
    "maturity:roadmap_create":              ("L",      "N",   "F",   "F",   "A",   "A",   "F"),
    # the administrator passes; the quarantined message / unreachable IMAP server are refused in words
    "intake:inbound_accept":                ("L",      "F",   "F",   "F",   "F",   "R",   "F"),
    "intake:mailbox_fetch":                 ("L",      "F",   "F",   "F",   "F",   "R",   "F"),
}

# API operations, asked with each role's bearer token (the largest scopes the role may hold).
#                          anonymous agent  lead   po     qm     admin  auditor
API_PUBLIC =              ("A",      "A",   "A",   "A",   "A",   "A",   "A")
API_ANY =                 ("U",      "A",   "A",   "A",   "A",   "A",   "A")
API_ADMIN =               ("U",      "F",   "F",   "F",   "F",   "A",   "F")
API_ADMIN_OR_AUDIT =      ("U",      "F",   "F",   "F",   "A",   "A",   "A")
API_CASE_WRITE =          ("U",      "A",   "A",   "F",   "A",   "A",   "F")
API_CASE_VIEW =           ("U",      "ANN", "ANN", "AAA", "AAA", "AAA", "AAA")
API_CASE_EDIT =           ("U",      "ANN", "ANN", "FFF", "AAA", "AAA", "FFF")
API_CUSTOMER_WRITE =      ("U",      "A",   "A",   "F",   "A",   "A",   "F")
API_MERGE =               ("U",      "F",   "F",   "F",   "A",   "A",   "F")
API_PRODUCT_WRITE =       ("U",      "F",   "F",   "A",   "F",   "A",   "F")
API_PROCESS_WRITE =       ("U",      "F",   "F",   "A",   "F",   "A",   "F")
# Decision tables: case workers (cases.edit) and process owners read and evaluate.
API_TABLE_READ =          ("U",      "A",   "A",   "A",   "A",   "A",   "F")
API_APPROVE =             ("U",      "N",   "A",   "N",   "N",   "A",   "F")

API: dict[str, tuple[str, ...]] = {
    "GET /api/v1/health":                                           API_PUBLIC,
    "GET /api/v1/me":                                               API_ANY,
    "GET /api/v1/users":                                            API_ADMIN_OR_AUDIT,
    "GET /api/v1/users/{user_id}":                                  API_ADMIN_OR_AUDIT,
    "GET /api/v1/teams":                                            API_ADMIN_OR_AUDIT,
    "POST /api/v1/inbound/email":                                   API_ADMIN,
    "GET /api/v1/cases":                                            API_ANY,
    "POST /api/v1/cases":                                           API_CASE_WRITE,
    "GET /api/v1/cases/{case_id}":                                  API_CASE_VIEW,
    "PATCH /api/v1/cases/{case_id}":                                API_CASE_EDIT,
    "GET /api/v1/cases/{case_id}/transitions":                      API_CASE_VIEW,
    "POST /api/v1/cases/{case_id}/transitions":                     API_CASE_EDIT,
    "POST /api/v1/cases/{case_id}/escalations":                     API_CASE_EDIT,
    "GET /api/v1/cases/{case_id}/interactions":                     API_CASE_VIEW,
    "POST /api/v1/cases/{case_id}/interactions":                    API_CASE_EDIT,
    "GET /api/v1/cases/{case_id}/attachments":                      API_CASE_VIEW,
    "POST /api/v1/cases/{case_id}/attachments":                     API_CASE_EDIT,
    "GET /api/v1/categories":                                       API_ANY,
    "GET /api/v1/case-types":                                       API_ANY,
    "GET /api/v1/customers":                                        API_ANY,
    "POST /api/v1/customers":                                       API_CUSTOMER_WRITE,
    "GET /api/v1/customers/{customer_id}":                          API_ANY,
    "PATCH /api/v1/customers/{customer_id}":                        API_CUSTOMER_WRITE,
    "GET /api/v1/customers/{customer_id}/contracts":                API_ANY,
    "POST /api/v1/customers/{customer_id}/contracts":               API_CUSTOMER_WRITE,
    "POST /api/v1/customers/{customer_id}/contracts/{contract_id}/end": API_CUSTOMER_WRITE,
    "GET /api/v1/customers/{customer_id}/consents":                 API_ANY,
    "POST /api/v1/customers/{customer_id}/consents":                API_CUSTOMER_WRITE,
    "POST /api/v1/customers/{customer_id}/merge":                   API_MERGE,
    "GET /api/v1/products":                                         API_ANY,
    "POST /api/v1/products":                                        API_PRODUCT_WRITE,
    "GET /api/v1/products/{product_id}":                            API_ANY,
    "GET /api/v1/cases/{case_id}/decisions":                        API_CASE_VIEW,
    "POST /api/v1/cases/{case_id}/decisions":                       API_CASE_EDIT,
    "POST /api/v1/cases/{case_id}/decisions/{record_id}/reversal":  ("U",      "FNN", "ANN", "FFF", "AAA", "AAA", "FFF"),
    "POST /api/v1/cases/{case_id}/decisions/{record_id}/correction": API_CASE_EDIT,  # the decider, or who may reverse
    "GET /api/v1/cases/{case_id}/clocks":                           API_CASE_VIEW,
    "POST /api/v1/cases/{case_id}/clocks/{clock_id}/extensions":    API_CASE_EDIT,
    "POST /api/v1/deadlines/compute":                               API_ANY,  # a calculation, nothing stored
    "GET /api/v1/deadlines/rules":                                  API_ANY,
    "POST /api/v1/deadlines/rules":                                 API_ADMIN,
    "GET /api/v1/processes":                                        API_ANY,
    "GET /api/v1/processes/{key}/versions/{version}":               API_ANY,
    "POST /api/v1/processes":                                       API_PROCESS_WRITE,
    "PUT /api/v1/processes/{key}/versions/{version}":               API_PROCESS_WRITE,
    "POST /api/v1/processes/{key}/versions/{version}/publish":      API_PROCESS_WRITE,
    "POST /api/v1/processes/validate":                              API_ANY,  # checks a definition, stores nothing
    "GET /api/v1/decision-tables":                                  API_TABLE_READ,
    "GET /api/v1/decision-tables/{key}":                            API_TABLE_READ,
    "GET /api/v1/decision-tables/{key}/jdm":                        API_TABLE_READ,
    "POST /api/v1/decision-tables":                                 API_PROCESS_WRITE,
    "PUT /api/v1/decision-tables/{key}/versions/{version}":         API_PROCESS_WRITE,
    "POST /api/v1/decision-tables/{key}/versions/{version}/publish": API_PROCESS_WRITE,
    "POST /api/v1/decision-tables/{key}/evaluate":                  API_TABLE_READ,  # a calculation, nothing stored
    "GET /api/v1/decision-tables/{key}/compare":                    API_TABLE_READ,  # the versions the caller may read
    # the world's version is a draft: retiring it is refused (409), deleting it passes (rolled back)
    "POST /api/v1/decision-tables/{key}/versions/{version}/retire":  API_PROCESS_WRITE,
    "DELETE /api/v1/decision-tables/{key}/versions/{version}":       API_PROCESS_WRITE,
    # approvals: the decider's lead (own team) and administrators may decide; others do not see it
    "GET /api/v1/approvals":                                        API_ANY,
    "POST /api/v1/approvals/{approval_id}/approve":                 API_APPROVE,
    "POST /api/v1/approvals/{approval_id}/reject":                  API_APPROVE,
    "POST /api/v1/approvals/{approval_id}/send-back":               API_APPROVE,
    "GET /api/v1/me/authority":                                     API_ANY,
}
# fmt: on

ROUTING = shipped_tables.jdm("routing")

RAW_MAIL = (
    b"From: Erika <erika@example.org>\r\nTo: service@example.org\r\nSubject: Matrix\r\n"
    b"Message-ID: <matrix@example.org>\r\n\r\nHallo\r\n"
)


def api_body(operation: str, world: World) -> dict[str, Any]:
    """A valid body for each writing operation, so that the answer is about who asks."""
    rule_key = deadline_selectors.rule_versions()[0].key
    bodies: dict[str, Any] = {
        "POST /api/v1/cases": {"case_type": "complaint", "subject": "Matrix", "channel": "email"},
        "PATCH /api/v1/cases/{case_id}": {"subject": "Matrix changed"},
        "POST /api/v1/cases/{case_id}/transitions": {"transition": "start"},
        "POST /api/v1/cases/{case_id}/escalations": {"reason": "Matrix"},
        "POST /api/v1/cases/{case_id}/interactions": {"kind": "internal_note", "body_text": "Matrix"},
        "POST /api/v1/customers": {"kind": "person", "first_name": "Max", "last_name": "Matrix"},
        "PATCH /api/v1/customers/{customer_id}": {"first_name": "Maxi"},
        "POST /api/v1/customers/{customer_id}/contracts": {"product_id": world.ids["product_id"], "contract_number": "MX-NEW"},
        "POST /api/v1/customers/{customer_id}/contracts/{contract_id}/end": {},
        "POST /api/v1/customers/{customer_id}/consents": {"purpose": "marketing", "granted": False},
        "POST /api/v1/customers/{customer_id}/merge": {"duplicate_id": world.ids["duplicate_id"]},
        "POST /api/v1/products": {"code": "MX-NEW", "name_de": "Neu", "name_en": "New"},
        "POST /api/v1/cases/{case_id}/clocks/{clock_id}/extensions": {"event": "holding_reply", "note": "Matrix"},
        "POST /api/v1/cases/{case_id}/decisions": {"kind": "none", "amount": "0", "currency": "EUR"},
        "POST /api/v1/cases/{case_id}/decisions/{record_id}/reversal": {"justification": "Matrix"},
        "POST /api/v1/cases/{case_id}/decisions/{record_id}/correction": {
            "kind": "goodwill",
            "amount": "10.00",
            "currency": "EUR",
            "justification": "Matrix",
        },
        "POST /api/v1/deadlines/compute": {"rule_key": rule_key, "received_at": "2026-01-05T10:00:00+01:00"},
        "POST /api/v1/deadlines/rules": {
            "key": rule_key,
            "valid_from": "2031-01-01",
            "parameters": {"measure": "business_days", "duration": 15},
        },
        "POST /api/v1/processes": {"key": "complaint", "name_de": "Matrix", "name_en": "Matrix", "definition": COMPLAINT},
        "PUT /api/v1/processes/{key}/versions/{version}": {"name_de": "Matrix", "name_en": "Matrix", "definition": COMPLAINT},
        "POST /api/v1/processes/validate": {"key": "complaint", "definition": COMPLAINT},
        "POST /api/v1/decision-tables": {"key": "matrix_table", "name_de": "Matrix", "name_en": "Matrix", "jdm": ROUTING},
        "PUT /api/v1/decision-tables/{key}/versions/{version}": {
            "name_de": "Matrix",
            "name_en": "Matrix",
            "decision_kind": "none",
            "jdm": ROUTING,
            "tests": shipped_tables.tests("routing"),
        },
        "POST /api/v1/decision-tables/{key}/evaluate": {"inputs": {"category": "billing", "segment": "private"}},
        "POST /api/v1/approvals/{approval_id}/reject": {"comment": "Matrix"},
        "POST /api/v1/approvals/{approval_id}/send-back": {"comment": "Matrix"},
    }
    return bodies.get(operation, {})


def post_data(name: str, world: World, scope: str) -> dict[str, Any]:
    """Valid input for the views that look at their input before they look at the user, so
    that the answer is about who asks; every other view gets an empty POST."""
    case_id = world.cases[scope].pk if scope in world.cases else None
    data: dict[str, Any] = {
        "case_list:bulk": {"action": "add_tag", "tag": "matrix", "ids": [case_id], "confirmed": "1"},  # the confirmed step
        "cases:transition": {"transition": "start"},
        "maturity:roadmap_create": {"check": world.ids["completed_check"], "title": "Matrix"},
        "case_list:saved_view_create": {"name": "Matrix view", "query": "status=new"},
        "cases:assign": {"responsible": "me"},
        "cases:escalate": {"reason": "Matrix"},
        "cases:clock_extend": {"event": "holding_reply", "note": "Matrix"},
        "case_decisions:reverse": {"justification": "Matrix", "amount": "0"},
        "case_decisions:correct": {"kind": "goodwill", "amount": "10", "currency": "EUR", "justification": "Matrix"},
        "intake:public_access": {"action": "revoke"},
        "processes:initial": {"initial": "acknowledged"},
        "approvals:decide": {"action": "approve"},
    }
    return data.get(name, {})


def _bulk_tagged(world: World, scope: str) -> bool:
    return world.cases[scope].tags.filter(name="matrix").exists()


# Views that answer a refusal inside a normal page: what shows that the change happened.
EFFECTS = {"case_list:bulk": _bulk_tagged}


# Views whose scope is not in their URL: the case they act on is posted.
SCOPE_IN_BODY = {"case_list:bulk": ["own", "other", "none"]}


@pytest.fixture(scope="module")
def world(django_db_blocker: Any, tmp_path_factory: Any, django_db_setup: Any) -> Iterator[World]:
    yield from shared_world(django_db_blocker, tmp_path_factory)


def matches(expected: str, observed: str) -> bool:
    return observed != SERVER_ERROR and observed in (NOT_OFFERED, expected)


def test_every_url_pattern_has_a_row() -> None:
    missing = sorted({name for name, _route, _kwargs in html_routes()} - set(HTML))
    assert not missing, f"URL patterns without a row in the authorisation matrix (add them to HTML): {missing}"
    stale = sorted(set(HTML) - {name for name, _route, _kwargs in html_routes()})
    assert not stale, f"rows for URL patterns that no longer exist: {stale}"


def test_every_api_operation_has_a_row() -> None:
    operations = {operation for operation, _path, _params in api_operations()}
    missing = sorted(operations - set(API))
    assert not missing, f"API operations without a row in the authorisation matrix (add them to API): {missing}"
    stale = sorted(set(API) - operations)
    assert not stale, f"rows for API operations that no longer exist: {stale}"


def _check_row(row: tuple[str, ...], scopes: list[str], label: str) -> None:
    assert len(row) == len(PRINCIPALS), f"{label}: one cell per principal {PRINCIPALS}"
    for cell in row:
        assert len(cell) in (1, len(scopes)), f"{label}: cell {cell!r} needs one outcome per scope {scopes}"


def _cells(row: tuple[str, ...], scopes: list[str]) -> dict[tuple[str, str], str]:
    return {
        (principal, scope): cell if len(cell) == 1 else cell[index]
        for principal, cell in zip(PRINCIPALS, row, strict=True)
        for index, scope in enumerate(scopes)
    }


HTML_ROUTES = {name: (route, kwargs) for name, route, kwargs in html_routes()}
API_OPERATIONS = {operation: (path, params) for operation, path, params in api_operations()}


@pytest.mark.parametrize("name", sorted(HTML_ROUTES))
def test_html_view(world: World, name: str) -> None:
    route, kwargs = HTML_ROUTES[name]
    scopes = SCOPE_IN_BODY.get(name) or scopes_of(kwargs)
    observed: dict[str, dict[tuple[str, str], str]] = {"GET": {}, "POST": {}}
    for principal in PRINCIPALS:
        for scope in scopes:
            path = fill(route, kwargs, world=world, principal=principal, scope=scope)
            get = partial(client_of(world, principal).get, path)
            observed["GET"][principal, scope] = outcome(in_savepoint(get))
            post = partial(client_of(world, principal).post, path, post_data(name, world, scope))
            effect = EFFECTS.get(name)
            check = None if effect is None else partial(effect, world, scope)
            observed["POST"][principal, scope] = outcome(in_savepoint(post, check=check))
    _compare(name, scopes, {"GET": HTML.get(name), "POST": HTML_POST.get(name, HTML.get(name))}, observed)


@pytest.mark.parametrize("operation", sorted(API_OPERATIONS))
def test_api_operation(world: World, operation: str) -> None:
    path, params = API_OPERATIONS[operation]
    method = operation.split()[0]
    scopes = api_scopes_of(params)
    observed: dict[tuple[str, str], str] = {}
    for principal in PRINCIPALS:
        client = world.api_clients[principal]
        for scope in scopes:
            url = api_fill(path, params, world=world, scope=scope)
            if operation == "POST /api/v1/inbound/email":
                send = partial(client.post, url, RAW_MAIL, content_type="message/rfc822")
            elif operation.endswith("/attachments") and method == "POST":
                upload = SimpleUploadedFile("matrix.txt", b"plain text\n", content_type="text/plain")
                send = partial(client.post, url, {"file": upload})
            else:
                body = json.dumps(api_body(operation, world)) if method != "GET" else ""
                headers = {"If-Match": _etag(world, url)} if method in ("PATCH", "PUT", "DELETE") else {}
                send = partial(client.generic, method, url, data=body, content_type="application/json", headers=headers)
            observed[principal, scope] = outcome(in_savepoint(send))
    _compare(operation, scopes, {method: API.get(operation)}, {method: observed})


def _etag(world: World, url: str) -> str:
    """The current ETag of a resource, read by the administrator: PATCH needs If-Match."""
    return str(world.api_clients["administrator"].get(url).headers.get("ETag", "*"))


def _compare(
    label: str,
    scopes: list[str],
    expected_rows: dict[str, tuple[str, ...] | None],
    observed: dict[str, dict[tuple[str, str], str]],
) -> None:
    if os.environ.get("MATRIX_PRINT"):
        for method, cells in observed.items():
            row = ["".join(cells[principal, scope] for scope in scopes) for principal in PRINCIPALS]
            print(f"\nMATRIX {method} {label!r}: {tuple(row)}")
    problems = []
    for method, row in expected_rows.items():
        assert row is not None, f"{label} has no row"
        _check_row(row, scopes, label)
        for (principal, scope), expected in _cells(row, scopes).items():
            got = observed[method][principal, scope]
            if not matches(expected, got):
                problems.append(f"{method} as {principal} ({scope}): expected {expected}, got {got}")
    assert not problems, f"{label}:\n" + "\n".join(problems)


# --- a child named under another parent -----------------------------------------------------

# URL kwargs naming an object that belongs to the kwarg before it.
CHILD_KWARGS = {"attachment_id", "contract_id", "delivery_id", "item_id", "skill_id", "field_id", "clock_id", "record_id"}

# The administrator (who may do everything) names each child under a parent it does not
# belong to: not found, or refused in words with nothing changed.
MISMATCHED: dict[str, Any] = {
    "cases:attachment_download": lambda w: f"/cases/{w.cases['own'].pk}/attachments/{w.attachments['other'].pk}/",
    "cases:clock_extend": lambda w: f"/cases/{w.cases['own'].pk}/clocks/{w.clocks['other']}/extend/",
    "case_decisions:reverse": lambda w: f"/cases/{w.cases['own'].pk}/decisions/{w.records['other']}/reversal/",
    "case_decisions:correct": lambda w: f"/cases/{w.cases['own'].pk}/decisions/{w.records['other']}/correction/",
    "customers:contract_end": lambda w: f"/customers/{w.ids['duplicate_id']}/contracts/{w.ids['contract_id']}/end/",
    "intake:webhook_redeliver": lambda w: (
        f"/intake/webhooks/{w.ids['endpoint2_id']}/deliveries/{w.ids['delivery_id']}/redeliver/"
    ),
    "maturity:roadmap_item_edit": lambda w: f"/maturity/roadmaps/{w.ids['roadmap2_id']}/items/{w.ids['item_id']}/",
    "maturity:roadmap_item_delete": lambda w: f"/maturity/roadmaps/{w.ids['roadmap2_id']}/items/{w.ids['item_id']}/delete/",
    "catalog:custom_field_edit": lambda w: f"/settings/catalog/case-types/{w.ids['case_type2_id']}/fields/{w.ids['field_id']}/",
    # a skill is a catalogue entry, not the user's child: removing one the administrator does
    # not hold is a no-op (answered as done); what matters is that the agent keeps theirs
    "settings:user_skill_remove": lambda w: f"/settings/users/{w.users['administrator'].pk}/skills/{w.ids['skill_id']}/remove/",
}
API_MISMATCHED = {
    "POST /api/v1/cases/{case_id}/decisions/{record_id}/correction": lambda w: (
        f"/api/v1/cases/{w.cases['own'].pk}/decisions/{w.records['other']}/correction"
    ),
    "POST /api/v1/cases/{case_id}/decisions/{record_id}/reversal": lambda w: (
        f"/api/v1/cases/{w.cases['own'].pk}/decisions/{w.records['other']}/reversal"
    ),
    "POST /api/v1/cases/{case_id}/clocks/{clock_id}/extensions": lambda w: (
        f"/api/v1/cases/{w.cases['own'].pk}/clocks/{w.clocks['other']}/extensions"
    ),
    "POST /api/v1/customers/{customer_id}/contracts/{contract_id}/end": lambda w: (
        f"/api/v1/customers/{w.ids['duplicate_id']}/contracts/{w.ids['contract_id']}/end"
    ),
}


def test_every_child_url_has_a_mismatch_row() -> None:
    children = sorted(name for name, _route, kwargs in html_routes() if CHILD_KWARGS & set(kwargs))
    missing = [name for name in children if name not in MISMATCHED]
    assert not missing, f"URLs naming a child object without a row in MISMATCHED: {missing}"
    api_children = sorted(op for op, _path, params in api_operations() if CHILD_KWARGS & set(params))
    assert [op for op in api_children if op not in API_MISMATCHED] == []


@pytest.mark.parametrize("name", sorted(MISMATCHED))
def test_a_child_under_another_parent_is_not_found(world: World, name: str) -> None:
    path = MISMATCHED[name](world)
    agent_skill = world.users["agent"].skills.filter(skill_id=world.ids["skill_id"])
    for method in ("get", "post"):

        def send(method: str = method) -> Any:
            response = getattr(client_of(world, "administrator"), method)(path, post_data(name, world, "own"))
            assert agent_skill.exists(), "the agent's skill was removed through the administrator's URL"
            return response

        response = in_savepoint(send)
        allowed = (NOT_FOUND, REFUSED, NOT_OFFERED) + ((ALLOWED,) if name == "settings:user_skill_remove" else ())
        assert outcome(response) in allowed, (name, method, response.status_code)


@pytest.mark.parametrize("operation", sorted(API_MISMATCHED))
def test_an_api_child_under_another_parent_is_not_found(world: World, operation: str) -> None:
    url = API_MISMATCHED[operation](world)
    body = json.dumps(api_body(operation, world))
    response = in_savepoint(partial(world.api_clients["administrator"].post, url, body, content_type="application/json"))
    assert response.status_code == 404, response.content
