"""The demo organisation: Stadtwerke Rheinfeld (energy) with its payment service
RheinPay. Teams and users for every role; later issues add cases and customers.

Everything is created through the services, so the demo data is audited like real data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from leitplanke.accounts import services as accounts
from leitplanke.accounts.models import Role, Skill, SkillKind, Team, User

DEMO_PASSWORD = "Rheinfeld-Demo-2026"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str
    teams: tuple[str, ...]
    language: str = "de"


DEMO_TEAMS = [
    ("Energie-Service", "Strom und Gas: Abrechnung, Zählerstände, Abschläge", "energie@stadtwerke-rheinfeld.example"),
    ("Zahlungsdienste", "RheinPay: Zahlungen, Karten, Gebühren (PSD2)", "rheinpay@stadtwerke-rheinfeld.example"),
    ("Beschwerdemanagement", "Zweite Stufe und Kundenbeschwerden mit Eskalation", "beschwerde@stadtwerke-rheinfeld.example"),
]

# The team the other demo teams sit under (Team.parent).
DEMO_PARENT_TEAM = "Beschwerdemanagement"

DEMO_USERS = [
    DemoUser("admin@demo.leitplanke.example", "Anna Admin", "administrator", ()),
    DemoUser("agent@demo.leitplanke.example", "Jonas Becker", "agent", ("Energie-Service",)),
    DemoUser("agent.en@demo.leitplanke.example", "Emily Clarke", "agent", ("Zahlungsdienste",), "en"),
    DemoUser("lead@demo.leitplanke.example", "Miriam Schulz", "team_lead", ("Energie-Service",)),
    DemoUser("process@demo.leitplanke.example", "Peter Hoffmann", "process_owner", ()),
    DemoUser("quality@demo.leitplanke.example", "Sabine Wagner", "quality_manager", ("Beschwerdemanagement",)),
    DemoUser("auditor@demo.leitplanke.example", "Oliver Grant", "auditor", (), "en"),
]

DEMO_SKILLS = [
    ("psd2", "PSD2-Beschwerden", "PSD2 complaints", SkillKind.QUALIFICATION),
    ("energy_billing", "Energieabrechnung", "Energy billing", SkillKind.SKILL),
    ("goodwill_l2", "Kulanz Stufe 2", "Goodwill level 2", SkillKind.QUALIFICATION),
    ("english", "Englisch", "English", SkillKind.LANGUAGE),
]


def seed_organisation() -> None:
    """Creates the demo organisation, teams, users and skills (idempotent)."""
    with transaction.atomic():
        accounts.organisation_update(
            actor=None,
            name="Stadtwerke Rheinfeld",
            calendar_region="DE-NW",
            customer_languages=["de", "en"],
            # What customers see on the public pages and when a limit applies.
            contact_email="service@stadtwerke-rheinfeld.example",
            contact_phone="02241 555 0100",
            contact_address="Stadtwerke Rheinfeld GmbH\nKundenservice\nPostfach 12 34\n53757 Rheinfeld",
        )
        roles = {role.key: role for role in Role.objects.all()}
        users: dict[str, User] = {}
        for entry in DEMO_USERS:
            users[entry.email] = User.objects.filter(email=entry.email).first() or accounts.user_create(
                actor=None,
                email=entry.email,
                full_name=entry.name,
                password=DEMO_PASSWORD,
                language=entry.language,
                roles=[roles[entry.role]],
            )
        leads = {"Energie-Service": "lead@demo.leitplanke.example", "Beschwerdemanagement": "quality@demo.leitplanke.example"}
        for name, description, email in DEMO_TEAMS:
            if Team.objects.filter(name=name).exists():
                continue
            members = [users[u.email] for u in DEMO_USERS if name in u.teams]
            lead = users[leads[name]] if name in leads else None
            accounts.team_create(actor=None, name=name, description=description, email=email, lead=lead, members=members)
        # Two levels: decisions above the service teams' lead go up to the complaints team's
        # lead (quality management) before the administrators (docs/decisions.md).
        top = Team.objects.get(name=DEMO_PARENT_TEAM)
        admin = users[DEMO_USERS[0].email]
        for team in Team.objects.filter(name__in=[n for n, _, _ in DEMO_TEAMS if n != DEMO_PARENT_TEAM], parent__isnull=True):
            accounts.team_update(actor=admin, team=team, parent=top)
        for key, name_de, name_en, kind in DEMO_SKILLS:
            if not Skill.objects.filter(key=key).exists():
                accounts.skill_create(actor=None, key=key, name_de=name_de, name_en=name_en, kind=kind)


def is_seeded() -> bool:
    return User.objects.filter(email=DEMO_USERS[0].email).exists()


def print_demo_logins(base_url: str) -> None:
    width = max(len(u.email) for u in DEMO_USERS)
    lines = [
        "",
        f"  Leitplanke demo is running at {base_url}/",
        f"  Log in with one of these accounts (password for all: {DEMO_PASSWORD}):",
        "",
    ]
    lines += [f"    {u.email:<{width}}  {u.role:<16} {u.name}" for u in DEMO_USERS]
    lines += ["", "  Stop with Ctrl+C.", ""]
    print("\n".join(lines), flush=True)
