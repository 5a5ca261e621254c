"""The recommendation library every installation starts with.

A data migration copies these rules into the database, where administrators edit them
(Settings → Maturity check recommendations); the check reads the database, not this
file. Each rule answers one dimension at given levels, or one named tension; quick wins
fit the first 90 days, projects are structural. `kpi` names a figure Leitplanke
measures itself (see maturity/kpis.py), so a roadmap item made from the rule shows it live.
"""

from __future__ import annotations

from .advice import PROJECT, QUICK_WIN, RecommendationRule
from .model import OPTIMISING, REACTIVE, STRATEGIC, Text

HEAD = Text("Leitung Kundenservice", "Head of customer service")
MANAGEMENT = Text("Geschäftsführung", "Management")
TEAM_LEAD = Text("Teamleitung", "Team lead")
QUALITY = Text("Qualitätsmanagement", "Quality management")
PROCESS = Text("Prozessverantwortung", "Process owner")
IT = Text("IT", "IT")


def _rule(
    key: str,
    horizon: str,
    title: tuple[str, str],
    text: tuple[str, str],
    owner: Text,
    indicator: tuple[str, str],
    *,
    levels: tuple[int, ...] = (),
    tension: str = "",
    kpi: str = "",
    priority: int = 100,
) -> RecommendationRule:
    dimension = "" if tension else key.split(".", 1)[0]
    return RecommendationRule(
        key=key,
        dimension=dimension,
        levels=levels,
        tension=tension,
        horizon=horizon,
        title=Text(*title),
        text=Text(*text),
        owner=owner,
        indicator=Text(*indicator),
        kpi=kpi,
        priority=priority,
    )


R1, R2, R3 = (REACTIVE,), (OPTIMISING,), (STRATEGIC,)

DEFAULT_RULES: tuple[RecommendationRule, ...] = (
    # --- vision & positioning --------------------------------------------------------------
    _rule(
        "vision.role_sentence",
        QUICK_WIN,
        ("Die Rolle des Service in einem Satz festhalten", "Write down the role of service in one sentence"),
        (
            "Geschäftsführung und Serviceleitung einigen sich auf einen Satz, wofür der Service da ist, und stellen "
            "ihn im Team vor.",
            "Management and the head of service agree on one sentence on what service is for and present it to the team.",
        ),
        HEAD,
        ("Satz verabschiedet und im Team vorgestellt", "Sentence agreed and presented to the team"),
        levels=R1,
    ),
    _rule(
        "vision.strategy",
        PROJECT,
        ("Eine Service-Strategie erarbeiten", "Develop a service strategy"),
        (
            "Rolle, Zielgruppen, Serviceversprechen und Beitrag zu Bindung und Wachstum auf zwei Seiten, "
            "von der Geschäftsführung verabschiedet.",
            "Role, target groups, service promise and contribution to retention and growth on two pages, approved by management.",
        ),
        MANAGEMENT,
        (
            "Strategie verabschiedet und in Entscheidungsvorlagen zitiert",
            "Strategy approved and cited in decision papers",
        ),
        levels=R1,
    ),
    _rule(
        "vision.early_involvement",
        QUICK_WIN,
        ("Den Service früh an Entscheidungen beteiligen", "Involve service early in decisions"),
        (
            "Eine Checkliste für Produkt- und Preisänderungen fragt: Wurde der Service vier Wochen vor dem Start beteiligt?",
            "A checklist for product and price changes asks: was service involved four weeks before the launch?",
        ),
        HEAD,
        (
            "Anteil kundenwirksamer Änderungen mit Service-Beteiligung vor dem Start",
            "Share of customer-facing changes with service involved before launch",
        ),
        levels=R2,
    ),
    _rule(
        "vision.promise",
        PROJECT,
        ("Ein Serviceversprechen veröffentlichen und messen", "Publish a service promise and measure it"),
        (
            "Aus den internen Standards ein kurzes Versprechen an Kunden machen (z. B. Antwort in zwei Werktagen) "
            "und monatlich berichten, ob es gehalten wird.",
            "Turn the internal standards into a short promise to customers (e.g. an answer within two working days) "
            "and report monthly whether it is kept.",
        ),
        HEAD,
        ("Dauer bis Abschluss (Median) und Anteil gehaltener Zusagen", "Time to closure (median) and share of promises kept"),
        levels=R2,
        kpi="closure_median_days",
    ),
    _rule(
        "vision.outside_view",
        PROJECT,
        ("Die Strategie von außen prüfen lassen", "Have the strategy tested from outside"),
        (
            "Ein Sparring mit erfahrenen Externen gleicht Vision und Machbarkeit ab und zeigt Möglichkeiten, die Sie "
            "noch nicht nutzt.",
            "A sparring session with experienced outsiders matches vision and feasibility and shows options you do not use yet.",
        ),
        MANAGEMENT,
        ("Review durchgeführt, Ergebnisse in der Roadmap", "Review held, results in the roadmap"),
        levels=R3,
    ),
    # --- goals & steering ------------------------------------------------------------------
    _rule(
        "steering.quality_figures",
        QUICK_WIN,
        ("Drei Qualitätskennzahlen einführen", "Start tracking three quality figures"),
        (
            "Neben der Menge: Dauer bis Abschluss, Wiedereröffnungsquote und Anteil kategorisierter Fälle – Leitplanke "
            "misst sie bereits.",
            "Besides volume: time to closure, reopen rate and share of categorised cases – Leitplanke measures them already.",
        ),
        TEAM_LEAD,
        ("Wiedereröffnungsquote monatlich berichtet", "Reopen rate reported monthly"),
        levels=R1,
        kpi="reopen_rate",
    ),
    _rule(
        "steering.samples",
        QUICK_WIN,
        ("Stichproben lesen", "Start reading samples"),
        (
            "Teamleitungen lesen jede Woche fünf abgeschlossene Fälle je Team anhand eines einfachen Bewertungsbogens.",
            "Team leads read five closed cases per team every week with a simple scorecard.",
        ),
        TEAM_LEAD,
        ("Geprüfte Fälle pro Woche", "Cases reviewed per week"),
        levels=R1,
        priority=110,
    ),
    _rule(
        "steering.agreed_goals",
        PROJECT,
        ("Ziele mit der Geschäftsführung vereinbaren", "Agree goals with management"),
        (
            "Zwei bis drei Serviceziele aus den Unternehmenszielen ableiten, mit Zielwerten und Verantwortlichen.",
            "Derive two or three service goals from the company's goals, with target values and owners.",
        ),
        HEAD,
        ("Ziele mit Zielwerten vereinbart und je Quartal überprüft", "Goals with target values agreed and reviewed each quarter"),
        levels=R1,
        kpi="closure_median_days",
    ),
    _rule(
        "steering.monthly_review",
        QUICK_WIN,
        ("Ein monatliches Kennzahlen-Review mit Maßnahmen", "A monthly review of figures that decides actions"),
        (
            "Ein fester Termin, in dem jede Abweichung eine Maßnahme mit Verantwortlichem bekommt und die Wirkung im "
            "Folgemonat geprüft wird.",
            "A fixed meeting in which every deviation gets an action with an owner, and the effect is checked the month after.",
        ),
        TEAM_LEAD,
        ("Maßnahmen je Review mit Wirkungsprüfung", "Actions per review with an effect check"),
        levels=R2,
    ),
    _rule(
        "steering.retention_link",
        PROJECT,
        ("Servicezahlen mit Kundenbindung verknüpfen", "Link service figures to retention"),
        (
            "Gemeinsam mit Vertrieb und Controlling messen, ob beschwerdeführende Kunden bleiben, und das neben den "
            "Servicekennzahlen berichten.",
            "Together with sales and controlling, measure whether complaining customers stay, and report it next to "
            "the service figures.",
        ),
        QUALITY,
        ("Bindungsquote beschwerdeführender Kunden im Bericht", "Retention rate of complaining customers in the report"),
        levels=R2,
    ),
    _rule(
        "steering.figure_review",
        PROJECT,
        ("Die Kennzahlen an ihrer Wirkung messen", "Test the figures against their effect"),
        (
            "Einmal im Jahr prüfen, welche Kennzahlen Entscheidungen wirklich verändert haben; überflüssige streichen, "
            "Lücken schließen.",
            "Once a year, check which figures really changed decisions; drop the superfluous ones, close the gaps.",
        ),
        QUALITY,
        ("Jährliches Kennzahlen-Review durchgeführt", "Yearly review of figures held"),
        levels=R3,
    ),
    # --- planning & roadmap ----------------------------------------------------------------
    _rule(
        "planning.top_five",
        QUICK_WIN,
        ("Die fünf wichtigsten Vorhaben priorisieren", "Prioritise the five most important initiatives"),
        (
            "Alle laufenden Ideen sammeln, fünf auswählen und je eine verantwortliche Person benennen – der Rest wartet.",
            "Collect all running ideas, pick five and name one owner each – the rest waits.",
        ),
        HEAD,
        ("Priorisierte Liste mit Verantwortlichen", "Prioritised list with owners"),
        levels=R1,
    ),
    _rule(
        "planning.roadmap",
        PROJECT,
        ("Eine 12-Monats-Roadmap aufstellen", "Set up a 12-month roadmap"),
        (
            "Quick Wins und strukturelle Projekte je Quartal, mit Verantwortlichen und messbaren Indikatoren, "
            "vierteljährlich überprüft.",
            "Quick wins and structural projects per quarter, with owners and measurable indicators, reviewed every quarter.",
        ),
        HEAD,
        ("Roadmap verabschiedet, Quartalsreview durchgeführt", "Roadmap approved, quarterly review held"),
        levels=R1,
    ),
    _rule(
        "planning.capacity_forecast",
        QUICK_WIN,
        ("Kapazität aus den Mengen vorausplanen", "Plan capacity from the volumes"),
        (
            "Die Eingangsmengen der letzten zwölf Monate je Woche auswerten und bekannte Spitzen (Abrechnung, "
            "Preisänderung) vorab einplanen.",
            "Analyse the incoming volumes of the last twelve months per week and plan known peaks (billing, price "
            "changes) ahead.",
        ),
        TEAM_LEAD,
        ("Eingegangene Fälle je Woche gegen die Prognose", "Cases received per week against the forecast"),
        levels=R2,
        kpi="case_volume",
    ),
    _rule(
        "planning.business_cases",
        PROJECT,
        ("Investitionen mit Wirtschaftlichkeitsbetrachtung entscheiden", "Decide investments with a business case"),
        (
            "Jede größere Investition bekommt Nutzen, Kosten und eine Kennzahl, an der der Erfolg nach sechs Monaten "
            "geprüft wird.",
            "Every larger investment gets benefits, costs and a figure by which its success is checked after six months.",
        ),
        MANAGEMENT,
        ("Anteil der Investitionen mit Nachprüfung", "Share of investments reviewed afterwards"),
        levels=R2,
    ),
    _rule(
        "planning.strategy_fit",
        PROJECT,
        ("Die Roadmap mit der Vision abgleichen", "Match the roadmap to the vision"),
        (
            "Jährlich prüfen, ob die Projekte der Roadmap auf die Service-Strategie einzahlen, und sie im Sparring hinterfragen.",
            "Check every year whether the roadmap's projects serve the service strategy, and challenge them with a "
            "sparring partner.",
        ),
        MANAGEMENT,
        ("Anteil der Roadmap-Projekte mit Bezug zur Strategie", "Share of roadmap projects linked to the strategy"),
        levels=R3,
    ),
    # --- organisation & change -------------------------------------------------------------
    _rule(
        "organisation.categories",
        QUICK_WIN,
        ("Jeder Fall bekommt eine Kategorie", "A category for every case"),
        (
            "Eine kurze, vereinbarte Kategorienliste einführen und bei jedem Fall setzen – die Grundlage jeder Ursachenanalyse.",
            "Introduce a short agreed list of categories and set one on every case – the basis of any root-cause analysis.",
        ),
        PROCESS,
        ("Anteil der Fälle mit Kategorie", "Share of cases with a category"),
        levels=R1,
        kpi="category_share",
    ),
    _rule(
        "organisation.feedback_loop",
        PROJECT,
        ("Eine Rückmeldeschleife zu anderen Abteilungen einrichten", "Set up a feedback loop with other departments"),
        (
            "Monatlich die häufigsten Ursachen mit Produkt, Vertrieb und IT besprechen; jede Ursache bekommt eine "
            "verantwortliche Person und eine Maßnahme.",
            "Discuss the most frequent causes with product, sales and IT every month; every cause gets an owner and an action.",
        ),
        QUALITY,
        ("Ursachen mit Verantwortlichem und Maßnahme je Monat", "Causes with an owner and an action per month"),
        levels=R1,
    ),
    _rule(
        "organisation.process_owners",
        QUICK_WIN,
        ("Jeder Prozess bekommt eine verantwortliche Person", "Give every process an owner"),
        (
            "Für jeden dokumentierten Kernprozess eine Person benennen, die ihn aktuell hält und einmal im Jahr prüft.",
            "Name one person for every documented core process who keeps it current and reviews it once a year.",
        ),
        PROCESS,
        ("Anteil der Prozesse mit Verantwortlichem und Prüfdatum", "Share of processes with an owner and a review date"),
        levels=R2,
    ),
    _rule(
        "organisation.effectiveness",
        PROJECT,
        ("Die Wirkung von Verbesserungen prüfen", "Check whether improvements work"),
        (
            "Jede Verbesserungsmaßnahme bekommt eine Kennzahl und einen Prüftermin; erst die gemessene Wirkung schließt sie ab.",
            "Every improvement action gets a figure and a review date; only the measured effect closes it.",
        ),
        QUALITY,
        ("Wiedereröffnungsquote und Anteil geprüfter Maßnahmen", "Reopen rate and share of actions checked for effect"),
        levels=R2,
        kpi="reopen_rate",
    ),
    _rule(
        "organisation.authority",
        PROJECT,
        ("Entscheidungsspielräume des Teams ausbauen", "Widen the team's authority"),
        (
            "Klare Befugnisgrenzen (z. B. Kulanz bis zu einem Betrag) erlauben den Mitarbeitenden, Fälle beim ersten "
            "Kontakt zu lösen.",
            "Clear authority limits (e.g. goodwill up to an amount) let staff resolve cases at the first contact.",
        ),
        HEAD,
        ("Dauer bis Abschluss (Median)", "Time to closure (median)"),
        levels=R3,
        kpi="closure_median_days",
    ),
    # --- customer retention & engagement ---------------------------------------------------
    _rule(
        "engagement.inform_early",
        QUICK_WIN,
        ("Bei bekannten Störungen aktiv informieren", "Inform customers actively about known disruptions"),
        (
            "Für Störungen, Verzögerungen und Preisänderungen Vorlagen vorbereiten und Betroffene informieren, bevor "
            "sie anrufen.",
            "Prepare templates for outages, delays and price changes and inform those affected before they call.",
        ),
        TEAM_LEAD,
        ("Eingehende Fälle in Wochen mit Störungen", "Cases received in weeks with disruptions"),
        levels=R1,
        kpi="case_volume",
    ),
    _rule(
        "engagement.voice",
        PROJECT,
        ("Die Kundenstimme systematisch sammeln", "Collect the customer's voice systematically"),
        (
            "Nach Abschluss eines Falls kurz nach der Zufriedenheit fragen und die Ergebnisse monatlich berichten.",
            "Ask briefly about satisfaction after a case is closed and report the results monthly.",
        ),
        QUALITY,
        ("Antwortquote und Zufriedenheit nach Abschluss", "Response rate and satisfaction after closure"),
        levels=R1,
    ),
    _rule(
        "engagement.follow_up",
        QUICK_WIN,
        ("Nach Beschwerden nachfassen", "Follow up after complaints"),
        (
            "Bei Beschwerden mit hohem Schweregrad zwei Wochen nach Abschluss anrufen und fragen, ob das Problem gelöst ist.",
            "For complaints of high severity, call two weeks after closure and ask whether the problem is solved.",
        ),
        TEAM_LEAD,
        ("Wiedereröffnungsquote", "Reopen rate"),
        levels=R2,
        kpi="reopen_rate",
    ),
    _rule(
        "engagement.retention",
        PROJECT,
        ("Die Bindung beschwerdeführender Kunden messen", "Measure the retention of complaining customers"),
        (
            "Mit Vertrieb und CRM verfolgen, ob Kunden nach einer Beschwerde bleiben, und gefährdete Kunden gezielt ansprechen.",
            "Track with sales and the CRM whether customers stay after a complaint, and approach those at risk on purpose.",
        ),
        HEAD,
        ("Bindungsquote beschwerdeführender Kunden", "Retention rate of complaining customers"),
        levels=R2,
    ),
    _rule(
        "engagement.early_warning",
        PROJECT,
        ("Proaktive Ansprache auf Daten stützen", "Base proactive contact on data"),
        (
            "Frühwarnsignale (wiederholte Kontakte, offene Reklamationen) auswerten und Ansprache samt Wirkung messen.",
            "Analyse early-warning signals (repeated contacts, open claims) and measure the contact and its effect.",
        ),
        HEAD,
        (
            "Abwanderung angesprochener gegenüber nicht angesprochenen Kunden",
            "Churn of contacted against not contacted customers",
        ),
        levels=R3,
    ),
    # --- technology & scale ----------------------------------------------------------------
    _rule(
        "technology.one_inbox",
        QUICK_WIN,
        ("Alle Eingänge in einem System bündeln", "Bring all incoming requests into one system"),
        (
            "E-Mail-Postfächer und Webformular direkt als Fälle erfassen, statt in persönlichen Postfächern und "
            "Tabellen zu arbeiten.",
            "Record mailboxes and the web form directly as cases instead of working in personal inboxes and spreadsheets.",
        ),
        HEAD,
        ("Als Fall erfasste Anliegen je Woche", "Requests recorded as cases per week"),
        levels=R1,
        kpi="case_volume",
    ),
    _rule(
        "technology.templates_routing",
        PROJECT,
        ("Antwortvorlagen und Verteilung einführen", "Introduce reply templates and routing"),
        (
            "Für die häufigsten Anliegen geprüfte Vorlagen anlegen und Fälle nach Kategorie an Teams verteilen.",
            "Create reviewed templates for the most frequent requests and route cases to teams by category.",
        ),
        PROCESS,
        ("Dauer bis Abschluss (Median)", "Time to closure (median)"),
        levels=R1,
        kpi="closure_median_days",
    ),
    _rule(
        "technology.manual_transfer",
        QUICK_WIN,
        ("Die aufwendigste Handübertragung abschaffen", "Remove the costliest manual transfer"),
        (
            "Die Übertragung zwischen zwei Systemen finden, die am meisten Zeit kostet, und durch eine Schnittstelle "
            "oder einen Webhook ersetzen.",
            "Find the transfer between two systems that costs the most time and replace it with an interface or a webhook.",
        ),
        IT,
        ("Eingesparte Minuten pro Woche", "Minutes saved per week"),
        levels=R2,
    ),
    _rule(
        "technology.self_service",
        PROJECT,
        ("Self-Service sichtbar machen und messen", "Make self-service visible and measure it"),
        (
            "Statusseite und Formular gut sichtbar anbieten und messen, wie viele Anliegen darüber kommen und wie oft "
            "Kunden nachfragen.",
            "Offer the status page and the form prominently and measure how many requests come through them and how often "
            "customers chase.",
        ),
        HEAD,
        ("Anteil der Anliegen über Self-Service", "Share of requests through self-service"),
        levels=R2,
    ),
    _rule(
        "technology.ai_pilots",
        PROJECT,
        ("Über KI mit Nutzennachweis entscheiden", "Decide on AI with evidence of benefit"),
        (
            "Für jedes KI-Werkzeug einen Pilot mit Vergleichsgruppe und klarer Kennzahl fahren, bevor es breit eingeführt wird.",
            "Run a pilot with a comparison group and a clear figure for every AI tool before rolling it out widely.",
        ),
        IT,
        ("Piloten mit gemessenem Effekt vor der Einführung", "Pilots with a measured effect before roll-out"),
        levels=R3,
    ),
    # --- answers to tensions ---------------------------------------------------------------
    _rule(
        "tension.goals_to_roadmap",
        QUICK_WIN,
        ("Die Ziele in eine Roadmap übersetzen", "Translate the goals into a roadmap"),
        (
            "Für jedes Ziel die zwei Vorhaben benennen, die es erreichen sollen, und sie auf Quartale verteilen.",
            "For every goal, name the two initiatives meant to reach it and spread them over the quarters.",
        ),
        HEAD,
        ("Ziele mit zugeordneten Vorhaben", "Goals with assigned initiatives"),
        tension="goals_without_roadmap",
    ),
    _rule(
        "tension.strategy_figures",
        QUICK_WIN,
        ("Kennzahlen aus der Strategie ableiten", "Derive the figures from the strategy"),
        (
            "Für jede Aussage der Service-Strategie eine Kennzahl festlegen, die zeigt, ob sie gelebt wird.",
            "For every statement of the service strategy, define a figure that shows whether it is lived.",
        ),
        HEAD,
        ("Strategieaussagen mit Kennzahl", "Strategy statements with a figure"),
        tension="vision_without_steering",
    ),
    _rule(
        "tension.tools_to_processes",
        QUICK_WIN,
        ("Werkzeuge an Prozesse koppeln", "Tie the tools to processes"),
        (
            "Für jedes Werkzeug klären, welchen Prozess es unterstützt und wer verantwortlich ist; Automatisierungen ohne "
            "Verantwortliche prüfen.",
            "For every tool, settle which process it supports and who owns it; review automations that have no owner.",
        ),
        PROCESS,
        ("Werkzeuge mit Prozess und Verantwortlichem", "Tools with a process and an owner"),
        tension="technology_ahead_of_organisation",
    ),
    _rule(
        "tension.retention_figure",
        QUICK_WIN,
        ("Eine Bindungszahl ins Reporting holen", "Put a retention figure into the report"),
        (
            "Die Bindung beschwerdeführender Kunden, die Sie schon verfolgen, in den Monatsbericht aufnehmen.",
            "Add the retention of complaining customers, which you already track, to the monthly report.",
        ),
        QUALITY,
        ("Bindungsquote im Monatsbericht", "Retention rate in the monthly report"),
        tension="retention_without_figures",
    ),
    _rule(
        "tension.record_causes",
        QUICK_WIN,
        ("Ursachen erfassen, bevor Sie sie weitergeben", "Record causes before passing them on"),
        (
            "Kategorie und Ursache bei jedem Fall setzen, damit die Rückmeldeschleife Fakten statt Eindrücke bekommt.",
            "Set category and cause on every case so that the feedback loop gets facts instead of impressions.",
        ),
        PROCESS,
        ("Anteil der Fälle mit Kategorie", "Share of cases with a category"),
        tension="feedback_without_causes",
        kpi="category_share",
    ),
    _rule(
        "tension.quality_in_review",
        QUICK_WIN,
        ("Qualitätszahlen ins Review holen", "Bring quality figures into the review"),
        (
            "Wiedereröffnungsquote und Dauer bis Abschluss neben die Mengen legen, damit das Review über Wirkung spricht.",
            "Put reopen rate and time to closure next to the volumes so that the review talks about effect.",
        ),
        TEAM_LEAD,
        ("Wiedereröffnungsquote im Review", "Reopen rate in the review"),
        tension="reviews_of_volume_only",
        kpi="reopen_rate",
    ),
    _rule(
        "tension.budget_for_roadmap",
        QUICK_WIN,
        ("Das Budget an die Roadmap binden", "Tie the budget to the roadmap"),
        (
            "Für die Projekte der nächsten zwei Quartale Mittel reservieren, bevor neue Wünsche hinzukommen.",
            "Reserve funds for the projects of the next two quarters before new wishes are added.",
        ),
        MANAGEMENT,
        ("Roadmap-Projekte mit gesichertem Budget", "Roadmap projects with secured budget"),
        tension="roadmap_without_budget",
    ),
    _rule(
        "tension.connect_self_service",
        QUICK_WIN,
        ("Self-Service an die Systeme anbinden", "Connect self-service to the systems"),
        (
            "Anliegen aus dem Self-Service direkt als Fall mit Kundendaten anlegen, statt sie von Hand zu übertragen.",
            "Create requests from self-service directly as cases with customer data instead of copying them by hand.",
        ),
        IT,
        ("Von Hand übertragene Anliegen je Woche", "Requests copied by hand per week"),
        tension="self_service_on_manual_transfers",
    ),
)
