from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "leitplanke.decisions"
    label = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from leitplanke.accounts.models import Skill, UserSkill
        from leitplanke.core import refcache

        from .models import AuthorityLimit, DecisionTable

        # The published version of a key is cached per reference generation (table_selectors),
        # and so are a person's authority rows and qualifications (authority_selectors._person;
        # roles and role assignments are watched by the accounts app).
        refcache.watch([DecisionTable, AuthorityLimit, Skill, UserSkill])
        # Process guards may ask whether a decision on the case awaits approval.
        from leitplanke.cases.process import register_derived_field

        from . import approval_tasks  # noqa: F401  (registers the approval reminder job)
        from .record_selectors import decision_pending

        register_derived_field("case.decision_pending", decision_pending)
