"""The service maturity model as data: three levels, six dimensions, twenty questions.

Pure Python (an import-linter contract keeps Django out), so the scoring can be tested
and reused without a database. Texts are data in both languages, like the lifecycle's
labels: the question bank is versioned as a whole (`MODEL_VERSION`), and a stored
answer set names the version it was given against. See docs/maturity-model.md.

Every answer option describes an observable practice and maps to one level
(1 reactive, 2 optimising, 3 strategic); nobody rates themselves on a scale.
"""

from __future__ import annotations

from dataclasses import dataclass

MODEL_VERSION = 1

REACTIVE, OPTIMISING, STRATEGIC = 1, 2, 3
LEVELS = (REACTIVE, OPTIMISING, STRATEGIC)


@dataclass(frozen=True)
class Text:
    de: str
    en: str

    def get(self, language: str) -> str:
        return self.de if (language or "de").startswith("de") else self.en


@dataclass(frozen=True)
class Level:
    value: int
    key: str
    name: Text
    motto: Text
    summary: Text
    patterns: tuple[Text, ...]


@dataclass(frozen=True)
class Dimension:
    key: str
    name: Text
    question: Text  # the guiding question of the dimension


@dataclass(frozen=True)
class Option:
    level: int
    text: Text


@dataclass(frozen=True)
class Question:
    key: str
    dimension: str
    text: Text
    options: tuple[Option, ...]  # ordered reactive → strategic

    @property
    def number(self) -> int:
        return QUESTION_KEYS.index(self.key) + 1


T = Text

LEVEL_LIST: tuple[Level, ...] = (
    Level(
        REACTIVE,
        "reactive",
        T("Reaktiv", "Reactive"),
        T("Ins kalte Wasser geworfen", "Thrown in at the deep end"),
        T(
            "Jeder Tag kann Überraschungen bringen. Das Team arbeitet dringende Aufgaben ab, damit Rückstände, "
            "Wartezeiten und Beschwerden nicht weiter wachsen; für mehr bleibt kaum Zeit.",
            "Every day can bring surprises. The team works through urgent tasks so that backlogs, waiting times "
            "and complaints do not grow further; there is hardly time for anything else.",
        ),
        (
            T("Das Team ist häufig überlastet.", "The team is often overloaded."),
            T(
                "Zusätzliche Leute oder neue Werkzeuge helfen nur für kurze Zeit.",
                "Extra people or new tools help only for a short while.",
            ),
            T(
                "Kennzahlen beschränken sich auf Mengen und Bearbeitungszeiten.",
                "Figures are limited to volumes and handling times.",
            ),
            T(
                "Der Service arbeitet für sich; es gibt keine geregelte Rückmeldung an andere Abteilungen.",
                "Service works on its own; there is no regular feedback to other departments.",
            ),
        ),
    ),
    Level(
        OPTIMISING,
        "optimising",
        T("Optimierend", "Optimising"),
        T("Der rote Faden fehlt", "The common thread is missing"),
        T(
            "Prozesse werden geprüft, verbessert und dokumentiert, die Werkzeuge funktionieren, das Team wird "
            "gezielt geschult. Die Verbesserungen laufen aber nebeneinander her und verstärken sich nicht.",
            "Processes are reviewed, improved and documented, the tools work and the team is trained on purpose. "
            "But the improvements run side by side and do not reinforce each other.",
        ),
        (
            T("Self-Service gibt es teilweise, er wird aber wenig genutzt.", "Self-service partly exists but is little used."),
            T(
                "Zwischen Systemen wird noch viel von Hand übertragen.",
                "Much is still transferred between systems by hand.",
            ),
            T("Automatisierungen laufen, aber nur im Kleinen.", "Automations run, but only on a small scale."),
            T(
                "Die Zusammenarbeit mit Produkt oder Vertrieb ist nicht geregelt.",
                "Collaboration with product or sales is not systematic.",
            ),
            T("Es gibt Ziele, aber keinen langfristigen Plan.", "There are goals, but no long-term plan."),
        ),
    ),
    Level(
        STRATEGIC,
        "strategic",
        T("Strategisch", "Strategic"),
        T("Der Rahmen steht, die Umsetzung läuft an", "The frame is set, implementation is starting"),
        T(
            "Die Rolle des Service im Unternehmen ist klar, Entscheidungen richten sich danach, und Service gilt als "
            "Hebel für Kundenbindung und Wachstum. Neben operativen Kennzahlen zählen Bindungsquote und Kundenwert.",
            "The role of service in the company is clear, decisions follow it, and service is seen as a lever for "
            "retention and growth. Besides operational figures, retention rate and customer lifetime value count.",
        ),
        (
            T(
                "Für neue KI-Werkzeuge fehlt eine belastbare Entscheidungsgrundlage: was wird wirklich gebraucht?",
                "New AI tools lack a sound basis for deciding what is really needed.",
            ),
            T(
                "Vision und Umsetzbarkeit sind nicht abgeglichen: was ist machbar und sinnvoll?",
                "Vision and feasibility are not matched: what is doable and worthwhile?",
            ),
            T(
                "Unklar ist, welche weiteren Möglichkeiten offenstehen.",
                "It is unclear which further options are open.",
            ),
            T(
                "Ein erfahrenes Gegenüber, das die Strategie prüft, fehlt.",
                "An experienced sparring partner to test the strategy is missing.",
            ),
        ),
    ),
)

DIMENSION_LIST: tuple[Dimension, ...] = (
    Dimension(
        "vision",
        T("Vision & Positionierung", "Vision & positioning"),
        T("Ist klar, welche Rolle Service im Unternehmen spielt?", "Is it clear which role service plays in the company?"),
    ),
    Dimension(
        "steering",
        T("Ziele & Steuerung", "Goals & steering"),
        T("Messen Sie die richtigen Kennzahlen?", "Do you measure the right figures?"),
    ),
    Dimension(
        "planning",
        T("Planung & Roadmap", "Planning & roadmap"),
        T("Gibt es einen roten Faden für die nächsten 6–12 Monate?", "Is there a common thread for the next 6–12 months?"),
    ),
    Dimension(
        "organisation",
        T("Organisation & Change", "Organisation & change"),
        T("Arbeitet Service mit anderen Abteilungen zusammen?", "Does service work together with other departments?"),
    ),
    Dimension(
        "engagement",
        T("Kundenbindung & Engagement", "Customer retention & engagement"),
        T("Arbeiten Sie reaktiv oder proaktiv?", "Do you work reactively or proactively?"),
    ),
    Dimension(
        "technology",
        T("Technologie & Skalierung", "Technology & scale"),
        T("Halten Ihre Werkzeuge mit dem Wachstum Schritt?", "Do your tools keep up with growth?"),
    ),
)


def _q(key: str, text: Text, reactive: Text, optimising: Text, strategic: Text) -> Question:
    return Question(
        key=key,
        dimension=key.split(".", 1)[0],
        text=text,
        options=(Option(REACTIVE, reactive), Option(OPTIMISING, optimising), Option(STRATEGIC, strategic)),
    )


QUESTION_LIST: tuple[Question, ...] = (
    # --- vision & positioning --------------------------------------------------------------
    _q(
        "vision.role",
        T(
            "Welche Rolle spielt der Kundenservice in Ihrer Unternehmensstrategie?",
            "What role does customer service play in your company's strategy?",
        ),
        T(
            "Service gilt als Kostenstelle; seine Rolle ist nirgends festgehalten.",
            "Service is treated as a cost centre; its role is not written down anywhere.",
        ),
        T(
            "Die Geschäftsführung nennt Service wichtig, eine schriftliche Service-Strategie gibt es nicht.",
            "Management calls service important, but there is no written service strategy.",
        ),
        T(
            "Eine schriftliche Strategie beschreibt die Rolle des Service (z. B. für Bindung und Wachstum), "
            "und die Geschäftsführung bezieht sich bei Entscheidungen darauf.",
            "A written strategy describes the role of service (e.g. for retention and growth), "
            "and management refers to it when deciding.",
        ),
    ),
    _q(
        "vision.decisions",
        T(
            "Wenn eine Entscheidung Kunden betrifft (Preisänderung, neues Produkt, neuer Ablauf): wann ist der Service "
            "beteiligt?",
            "When a decision affects customers (price change, new product, new procedure): when is service involved?",
        ),
        T(
            "Der Service erfährt davon, wenn die ersten Kunden anrufen.",
            "Service learns about it when the first customers call.",
        ),
        T(
            "Der Service wird vor dem Start informiert und kann sich vorbereiten.",
            "Service is informed before the launch and can prepare.",
        ),
        T(
            "Der Service sitzt schon in der Planung mit am Tisch, und seine Daten beeinflussen die Entscheidung.",
            "Service sits at the table during planning, and its data influence the decision.",
        ),
    ),
    _q(
        "vision.promise",
        T(
            "Gibt es ein Serviceversprechen, das Kunden und Mitarbeitende kennen?",
            "Is there a service promise that customers and staff know?",
        ),
        T(
            "Nein: alle geben ihr Bestes, einen gemeinsamen Maßstab gibt es nicht.",
            "No: everyone does their best, but there is no shared standard.",
        ),
        T(
            "Es gibt interne Standards (z. B. Antwortzeiten), die Kunden aber nicht kennen.",
            "There are internal standards (e.g. response times) that customers do not know.",
        ),
        T(
            "Ein veröffentlichtes Serviceversprechen wird gemessen und regelmäßig berichtet.",
            "A published service promise is measured and reported regularly.",
        ),
    ),
    # --- goals & steering ------------------------------------------------------------------
    _q(
        "steering.kpis",
        T("Welche Kennzahlen sehen Sie sich regelmäßig an?", "Which figures do you look at regularly?"),
        T(
            "Höchstens Ticketmengen, Rückstand und Bearbeitungszeit.",
            "Ticket volumes, backlog and handling time at most.",
        ),
        T(
            "Auch Qualität: Erstlösungsquote, Wiedereröffnungsquote, Fristeinhaltung oder Zufriedenheit nach Abschluss.",
            "Quality too: first-contact resolution, reopen rate, deadline compliance or satisfaction after closure.",
        ),
        T(
            "Zusätzlich strategische Kennzahlen wie die Bindungsquote beschwerdeführender Kunden oder den Kundenwert, "
            "verknüpft mit den Servicekennzahlen.",
            "Strategic figures as well, such as the retention rate of complaining customers or customer lifetime value, "
            "linked to the service figures.",
        ),
    ),
    _q(
        "steering.goals",
        T("Wie entstehen die Ziele für den Service?", "How are the goals for service set?"),
        T(
            "Es gibt keine ausdrücklichen Ziele; Erfolg heißt, die Warteschlange im Griff zu haben.",
            "There are no explicit goals; success means keeping the queue under control.",
        ),
        T(
            "Das Serviceteam setzt sich Jahresziele für einzelne Kennzahlen (z. B. Antwortzeit).",
            "The service team sets yearly targets for single figures (e.g. response time).",
        ),
        T(
            "Die Ziele leiten sich aus den Unternehmenszielen ab, sind mit der Geschäftsführung vereinbart "
            "und auf die Teams heruntergebrochen.",
            "Goals are derived from the company's goals, agreed with management and broken down to the teams.",
        ),
    ),
    _q(
        "steering.review",
        T("Was passiert mit den Zahlen?", "What happens with the figures?"),
        T(
            "Sie werden gezogen, wenn jemand danach fragt.",
            "They are pulled when somebody asks for them.",
        ),
        T(
            "Ein Monatsbericht geht herum; Konsequenzen werden von Fall zu Fall entschieden.",
            "A monthly report goes round; consequences are decided case by case.",
        ),
        T(
            "Ein fester Termin (z. B. monatlich) bewertet die Zahlen, beschließt Maßnahmen und prüft später deren Wirkung.",
            "A fixed meeting (e.g. monthly) reviews the figures, decides actions and later checks their effect.",
        ),
    ),
    _q(
        "steering.quality",
        T(
            "Wie prüfen Sie die Qualität der Fallbearbeitung?",
            "How do you check the quality of case handling?",
        ),
        T(
            "Erst wenn sich ein Kunde erneut beschwert.",
            "Only when a customer complains again.",
        ),
        T(
            "Teamleitungen lesen gelegentlich Stichproben.",
            "Team leads read samples now and then.",
        ),
        T(
            "Regelmäßige Qualitätsprüfungen mit Bewertungsbogen und Kalibrierung; die Ergebnisse fließen in Schulungen.",
            "Regular quality reviews with a scorecard and calibration; the results feed into training.",
        ),
    ),
    # --- planning & roadmap ----------------------------------------------------------------
    _q(
        "planning.roadmap",
        T("Gibt es einen Plan für die nächsten 6–12 Monate?", "Is there a plan for the next 6–12 months?"),
        T("Nein, wir reagieren auf das, was kommt.", "No, we react to whatever comes up."),
        T(
            "Es gibt eine Projektliste, aber die Prioritäten wechseln oft und es gibt keinen Zeitplan.",
            "There is a list of projects, but priorities change often and there is no schedule.",
        ),
        T(
            "Eine priorisierte Roadmap mit Verantwortlichen und Meilensteinen, die vierteljährlich überprüft wird.",
            "A prioritised roadmap with owners and milestones, reviewed every quarter.",
        ),
    ),
    _q(
        "planning.capacity",
        T("Wie planen Sie die Personalkapazität?", "How do you plan staff capacity?"),
        T(
            "Engpässe merken wir am wachsenden Rückstand; dann bitten wir um Hilfe.",
            "We notice shortages when the backlog grows; then we ask for help.",
        ),
        T(
            "Wir planen Schichten nach vergangenen Mengen; Spitzen überraschen uns trotzdem.",
            "We plan shifts from past volumes; peaks still take us by surprise.",
        ),
        T(
            "Prognosen je Kanal, die Produktstarts und Kampagnen einrechnen, steuern Einsatz und Einstellungen Monate im Voraus.",
            "Forecasts per channel that include launches and campaigns drive staffing and hiring months ahead.",
        ),
    ),
    _q(
        "planning.budget",
        T(
            "Wie wird über Investitionen in den Service (Werkzeuge, Personal, Schulung) entschieden?",
            "How are investments in service (tools, staff, training) decided?",
        ),
        T("Spontan, wenn es brennt.", "Ad hoc, when things are on fire."),
        T(
            "Im Jahresbudget, Posten für Posten, ohne Wirtschaftlichkeitsbetrachtung.",
            "In the yearly budget, line by line, without a business case.",
        ),
        T(
            "Mit einer Wirtschaftlichkeitsbetrachtung, die zur Roadmap passt und nach der Umsetzung überprüft wird.",
            "With a business case that fits the roadmap and is reviewed after implementation.",
        ),
    ),
    # --- organisation & change -------------------------------------------------------------
    _q(
        "organisation.feedback",
        T(
            "Was passiert mit Erkenntnissen aus Kundenkontakten (wiederkehrende Probleme, Ursachen)?",
            "What happens with insights from customer contacts (recurring problems, causes)?",
        ),
        T(
            "Sie bleiben im Serviceteam; die Mitarbeitenden arbeiten um die Probleme herum.",
            "They stay in the service team; staff work around the problems.",
        ),
        T(
            "Der Service gibt sie per E-Mail oder im Meeting weiter; ob etwas passiert, bleibt offen.",
            "Service passes them on by e-mail or in meetings; whether anything happens remains open.",
        ),
        T(
            "Ein fester Kreislauf: Ursachen werden erfasst, Verantwortliche in Produkt, Vertrieb oder IT ergreifen "
            "Maßnahmen, und der Service prüft die Wirkung.",
            "A fixed loop: causes are recorded, owners in product, sales or IT take action, and service checks the effect.",
        ),
    ),
    _q(
        "organisation.root_causes",
        T(
            "Erfassen Sie zu jedem Fall Kategorie und Ursache?",
            "Do you record the category and the cause of every case?",
        ),
        T("Nein, oder nur im Freitext.", "No, or only in free text."),
        T(
            "Jeder Fall bekommt eine Kategorie aus einer vereinbarten Liste; Ursachen werden ab und zu ausgewertet.",
            "Every case gets a category from an agreed list; causes are analysed now and then.",
        ),
        T(
            "Kategorie und Grundursache werden systematisch erfasst und regelmäßig auf Trends ausgewertet.",
            "Category and root cause are recorded systematically and analysed for trends regularly.",
        ),
    ),
    _q(
        "organisation.processes",
        T("Wie sind Ihre Serviceprozesse dokumentiert?", "How are your service processes documented?"),
        T(
            "In den Köpfen; Neue lernen durch Zuschauen.",
            "In people's heads; newcomers learn by watching.",
        ),
        T(
            "Kernprozesse und Antwortvorlagen sind dokumentiert, werden aber unregelmäßig aktualisiert.",
            "Core processes and reply templates are documented but updated irregularly.",
        ),
        T(
            "Prozesse sind dokumentiert, haben benannte Verantwortliche, sind versioniert und werden anhand "
            "gemessener Ergebnisse verbessert.",
            "Processes are documented, have named owners, are versioned and are improved from measured results.",
        ),
    ),
    _q(
        "organisation.people",
        T(
            "Wie werden Mitarbeitende entwickelt und an Veränderungen beteiligt?",
            "How are staff developed and involved in change?",
        ),
        T(
            "Schulung heißt Einarbeitung; Veränderungen passieren dem Team.",
            "Training means onboarding; change happens to the team.",
        ),
        T(
            "Gezielte Schulungen je Thema; das Team wird über Veränderungen informiert.",
            "Targeted training per topic; the team is informed about changes.",
        ),
        T(
            "Entwicklungspläne je Person; Mitarbeitende gestalten Veränderungen mit und entscheiden in klaren Grenzen selbst.",
            "Development plans per person; staff help shape changes and decide for themselves within clear limits.",
        ),
    ),
    # --- customer retention & engagement ---------------------------------------------------
    _q(
        "engagement.proactive",
        T(
            "Melden Sie sich bei Kunden, bevor diese sich bei Ihnen melden?",
            "Do you contact customers before they contact you?",
        ),
        T("Nein, wir beantworten nur eingehende Anliegen.", "No, we only answer incoming requests."),
        T(
            "In bekannten Situationen (Störungen, Verzögerungen) informieren wir aktiv.",
            "In known situations (outages, delays) we inform customers actively.",
        ),
        T(
            "Wir erkennen gefährdete Kunden anhand von Daten, sprechen sie gezielt an und messen die Wirkung auf die Bindung.",
            "We spot customers at risk from data, approach them on purpose and measure the effect on retention.",
        ),
    ),
    _q(
        "engagement.voice",
        T("Wie holen Sie Rückmeldungen von Kunden ein?", "How do you collect feedback from customers?"),
        T("Nur über Beschwerden.", "Only through complaints."),
        T(
            "Befragungen nach dem Kontakt (z. B. Zufriedenheit); die Ergebnisse werden berichtet.",
            "Surveys after the contact (e.g. satisfaction); the results are reported.",
        ),
        T(
            "Befragungen, Beschwerden und Kontakte werden gemeinsam ausgewertet, führen zu dokumentierten Änderungen, "
            "und die Kunden erfahren, was sich geändert hat.",
            "Surveys, complaints and contacts are analysed together, lead to documented changes, "
            "and customers are told what changed.",
        ),
    ),
    _q(
        "engagement.complainants",
        T(
            "Wie geht es mit Kunden nach einer Beschwerde weiter?",
            "What happens with customers after a complaint?",
        ),
        T("Fall abgeschlossen, erledigt.", "Case closed, done."),
        T(
            "In einzelnen Fällen fragen wir nach, ob die Antwort zufriedenstellend war.",
            "In some cases we ask whether the answer was satisfactory.",
        ),
        T(
            "Wir verfolgen, ob beschwerdeführende Kunden bleiben, und gewinnen sie mit gezielten Maßnahmen zurück.",
            "We track whether complaining customers stay and win them back with targeted measures.",
        ),
    ),
    # --- technology & scale ----------------------------------------------------------------
    _q(
        "technology.tools",
        T("Wie gut tragen Ihre Werkzeuge Wachstum?", "How well do your tools carry growth?"),
        T(
            "Mehr Menge heißt mehr Leute; die Werkzeuge sind Postfächer und Tabellen.",
            "More volume means more people; the tools are mailboxes and spreadsheets.",
        ),
        T(
            "Ein Fallsystem ist im Einsatz; Spitzen brauchen trotzdem Überstunden.",
            "A case system is in use; peaks still need overtime.",
        ),
        T(
            "Die Werkzeuge wachsen mit: Verteilung, Vorlagen und Automatisierung fangen Spitzen ab, ohne dass "
            "im gleichen Maß Personal nötig ist.",
            "The tools grow along: routing, templates and automation absorb peaks without hiring in proportion.",
        ),
    ),
    _q(
        "technology.integration",
        T("Wie sind Ihre Systeme verbunden?", "How are your systems connected?"),
        T(
            "Mitarbeitende übertragen Daten von Hand zwischen den Systemen.",
            "Staff copy data between systems by hand.",
        ),
        T(
            "Einige Schnittstellen gibt es, vieles wird aber noch von Hand übertragen.",
            "Some interfaces exist, but much is still transferred by hand.",
        ),
        T(
            "Fallsystem, CRM und Abrechnung sind verbunden; Kundendaten und Ereignisse fließen automatisch.",
            "Case system, CRM and billing are connected; customer data and events flow automatically.",
        ),
    ),
    _q(
        "technology.self_service",
        T("Wie steht es um Self-Service und Automatisierung?", "Where do you stand on self-service and automation?"),
        T(
            "Gibt es nicht: jedes Anliegen landet bei einem Menschen.",
            "There is none: every request ends up with a person.",
        ),
        T(
            "Self-Service (FAQ, Portal, Statusseite) gibt es, er wird aber wenig genutzt; Automatisierungen sind klein.",
            "Self-service (FAQ, portal, status page) exists but is little used; automations are small.",
        ),
        T(
            "Self-Service wird genutzt und gemessen; Automatisierung und KI werden danach ausgewählt, was sie "
            "nachweislich leisten.",
            "Self-service is used and measured; automation and AI are chosen by what they demonstrably deliver.",
        ),
    ),
)

QUESTION_KEYS: tuple[str, ...] = tuple(question.key for question in QUESTION_LIST)
DIMENSION_KEYS: tuple[str, ...] = tuple(dimension.key for dimension in DIMENSION_LIST)
QUESTIONS: dict[str, Question] = {question.key: question for question in QUESTION_LIST}
DIMENSIONS: dict[str, Dimension] = {dimension.key: dimension for dimension in DIMENSION_LIST}
LEVELS_BY_VALUE: dict[int, Level] = {level.value: level for level in LEVEL_LIST}


def questions_of(dimension: str) -> tuple[Question, ...]:
    return tuple(question for question in QUESTION_LIST if question.dimension == dimension)


def level(value: int) -> Level:
    return LEVELS_BY_VALUE[value]


def step_of(question_key: str) -> int:
    """The page (1–6) of the check on which a question is asked: one page per dimension."""
    return DIMENSION_KEYS.index(QUESTIONS[question_key].dimension) + 1
