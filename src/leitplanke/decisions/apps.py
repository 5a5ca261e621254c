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
        from leitplanke.cases.process import register_derived_field, register_effect
        from leitplanke.processes import selectors as process_selectors

        from . import approval_tasks  # noqa: F401  (registers the approval reminder job)
        from .record_selectors import decision_pending, has_decision
        from .step_services import decide_step
        from .table_selectors import published_keys, step_table_choices

        register_derived_field("case.decision_pending", decision_pending)
        register_derived_field("case.has_decision", has_decision)
        # A transition's `decide` effect (decision steps): the tables it may name, the editor's
        # choice of them, and the step itself, run by cases.services.case_transition.
        process_selectors.register_table_keys(published_keys)
        process_selectors.register_editor_choices("tables", step_table_choices)
        register_effect("decide", decide_step)
