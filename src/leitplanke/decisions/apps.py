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
        from . import approval_tasks  # noqa: F401  (registers the approval reminder job)
