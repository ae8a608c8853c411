"""The briefing's user-facing words, in Danish (the default) and English. The team is addressed as "I/jeres"."""

from __future__ import annotations

from lessons.answering import label

__all__ = ["PROFILE_LABELS", "TEXTS", "t", "value_label"]

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("Projektbriefing: {title}", "Project briefing: {title}"),
    "nav": ("Projektbriefing", "Project briefing"),
    "generated": ("Genereret {when} · indeksversion {version}", "Generated {when} · index version {version}"),
    "intro": (
        "Det her er, hvad de 40 signaturprojekter lærte, som er relevant for jeres projekt – hentet fra rapporten "
        "og med kildehenvisninger. Udfordringerne står i den rækkefølge, projekterne typisk mødte dem.",
        "This is what the 40 signature projects learned that matters for your project – taken from the report, "
        "with sources. The challenges come in the order the projects typically met them.",
    ),
    "as_described": ("Som beskrevet i {years}", "As described in {years}"),
    "freshness": (
        "Som beskrevet i {years}: erfaringerne gengiver rapportens status dengang. Regler og vejledning kan have "
        "ændret sig siden – fx med EU's forordning om kunstig intelligens (AI Act) og ny vejledning – så tjek de "
        "juridiske punkter mod de gældende regler.",
        "As described in {years}: the lessons give the report's status at the time. Rules and guidance may have "
        "changed since – for example with the EU AI Act and new guidance – so check the legal points against the "
        "rules in force.",
    ),
    "see_above": ("se ovenfor", "see above"),
    "legal_note": (
        "Som beskrevet i {years}; reglerne kan have ændret sig siden.",
        "As described in {years}; the rules may have changed since.",
    ),
    "profile": ("Jeres projekt", "Your project"),
    "order_note": ("Rækkefølgen bygger på", "The order follows"),
    # sections
    "challenges": ("1. Udfordringer, I sandsynligvis møder", "1. Challenges you are likely to meet"),
    "no_challenges": (
        "Reglerne peger ikke på nogen bestemte udfordringer for jeres profil.",
        "The rules point to no particular challenges for your profile.",
    ),
    "why": ("Hvorfor", "Why"),
    "because_profile": ("Fordi jeres profil siger", "Because your profile says"),
    "lesson": ("Erfaringen bag", "The lesson behind it"),
    "what_others_did": ("Sådan gjorde andre", "What other teams did"),
    "no_examples": (
        "Korpusset har intet håndteringseksempel for denne udfordring.",
        "The corpus has no handling example for this challenge.",
    ),
    "advice": ("2. Gode råd, der gælder for jer (tjekliste)", "2. Good advice that applies to you (checklist)"),
    "no_advice": (
        "Ingen af de ti gode råd knytter sig til jeres udfordringer.",
        "None of the ten pieces of advice applies.",
    ),
    "applies_because": ("gælder pga.", "applies because of"),
    "similar": ("3. Projekter som jeres", "3. Projects like yours"),
    "no_similar": ("Korpusset har ingen projekter at sammenligne med.", "The corpus has no projects to compare with."),
    "what_happened": ("Hvad skete der", "What happened"),
    "alike": ("Ligner jeres", "Like yours"),
    "alike_domain": ("samme domæne", "same domain"),
    "alike_sector": ("samme sektor", "same sector"),
    "alike_text": ("beskrivelsen", "the description"),
    "alike_completed": (
        "det nærmeste afsluttede projekt på jeres område (de nærmeste var ikke afsluttet)",
        "the nearest completed project in your domain (the nearest ones had not finished)",
    ),
    "project_lessons": ("Projektets erfaringer", "The project's lessons"),
    "questions": ("4. Spørgsmål, I bør afklare, før I starter", "4. Questions to settle before you start"),
    "no_questions": ("Ingen spørgsmål fra reglerne.", "No questions from the rules."),
    "from_lesson": ("fra erfaringen", "from the lesson"),
    "gaps": ("5. Hvor korpusset intet har", "5. Where the corpus has nothing"),
    "no_gaps": (
        "Korpusset har erfaringer for alle dele af jeres profil.",
        "The corpus has lessons for every part of your profile.",
    ),
    "gaps_logged": (
        "Hullerne er logget, så kuratorerne kan se, hvad der mangler.",
        "The gaps have been logged so the curators can see what is missing.",
    ),
    "sources": ("Kilder", "Sources"),
    "replaces": ("erstatter den ældre erfaring {ids}", "replaces the older entry {ids}"),
    "section": ("afsnit", "section"),
    "page": ("s.", "p."),
    "project": ("Projekt", "Project"),
    # gaps
    "gap_sector": (
        "Ingen af signaturprojekterne blev drevet af {value}; erfaringerne kommer fra kommuner og regioner, "
        "og forhold som organisering, jura og it-landskab kan være anderledes hos jer.",
        "None of the signature projects was run by {value}; the lessons come from municipalities and regions, "
        "and organisation, law and IT landscape may differ for you.",
    ),
    "gap_domain_sector": (
        "Korpusset har intet projekt inden for {domain} drevet af {sector}.",
        "The corpus has no {domain} project run by {sector}.",
    ),
    "gap_description": (
        "Intet i korpusset ligner jeres projektbeskrivelse; projekterne nedenfor er de nærmeste, men ikke nære.",
        "Nothing in the corpus resembles your project description; the projects below are the nearest, not near.",
    ),
    "gap_examples": ("Ingen håndteringseksempler for «{rule}».", "No handling examples for “{rule}”."),
    # outcomes
    "outcome_deployed": ("Idriftsat", "Put into operation"),
    "outcome_prototype": ("Prototype, ikke i drift ved rapporten", "Prototype, not in operation at the report"),
    "outcome_stopped": ("Ikke idriftsat", "Not put into operation"),
    "outcome_completed": ("Afsluttet", "Completed"),
    "outcome_ongoing": ("I gang ved rapporten – resultatet kendes ikke", "Ongoing at the report – outcome unknown"),
    # the page
    "page_intro": (
        "Beskriv jeres projekt, før det starter, så samler vi de erfaringer fra signaturprojekterne, der er "
        "relevante for jer: sandsynlige udfordringer og hvad andre gjorde, gode råd, lignende projekter og de "
        "spørgsmål, I bør afklare. Briefingen kan hentes som Markdown eller PDF til styregruppen.",
        "Describe your project before it starts, and we gather the lessons from the signature projects that "
        "matter for you: likely challenges and what others did, good advice, similar projects and the questions "
        "to settle. Download the briefing as Markdown or PDF for the steering group.",
    ),
    "form_title": ("Projektets titel", "Project title"),
    "form_description": ("Hvad vil I bygge, og til hvem?", "What will you build, and for whom?"),
    "form_description_placeholder": (
        "Fx: En algoritme, der ud fra journaldata vurderer, hvilke patienter der bør indkaldes til kontrol først.",
        "E.g.: An algorithm that uses health records to rank which patients should be called in for a check first.",
    ),
    "form_sector": ("Hvem driver projektet?", "Who runs the project?"),
    "form_domain": ("Område", "Domain"),
    "form_data": ("Hvilke data skal løsningen bruge?", "Which data will the solution use?"),
    "form_decision_support": (
        "Løsningen støtter kliniske beslutninger eller afgørelser i sager",
        "The solution supports clinical or case decisions",
    ),
    "form_citizen_facing": (
        "Løsningen vurderer eller henvender sig direkte til borgere",
        "The solution assesses or addresses citizens directly",
    ),
    "form_phase": ("Hvor er projektet nu?", "Where is the project now?"),
    "form_vendor": ("En leverandør bygger løsningen", "A vendor builds the solution"),
    "form_upload": ("…eller hent en profil (YAML)", "…or load a profile (YAML)"),
    "form_submit": ("Lav briefingen", "Make the briefing"),
    "form_problem": ("Profilen kan ikke bruges:", "The profile cannot be used:"),
    "making": ("Samler erfaringerne …", "Gathering the lessons …"),
    "download_md": ("Hent som Markdown", "Download as Markdown"),
    "download_pdf": ("Hent som PDF", "Download as PDF"),
    "pdf_failed": ("PDF'en kunne ikke laves: {problem}", "The PDF could not be made: {problem}"),
    "rules_problem": ("Briefingreglerne kan ikke bruges: {problem}", "The briefing rules cannot be used: {problem}"),
    "gap_log_failed": ("Hullerne kunne ikke logges: {problem}", "The gaps could not be logged: {problem}"),
}

# Labels of the profile's keys and values (the corpus's own vocabularies are labelled in lessons.models).
PROFILE_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "field": {
        "title": ("Titel", "Title"),
        "description": ("Beskrivelse", "Description"),
        "sector": ("Sektor", "Sector"),
        "domain": ("Område", "Domain"),
        "data": ("Data", "Data"),
        "decision_support": ("Beslutningsstøtte", "Decision support"),
        "phase": ("Fase", "Phase"),
        "vendor": ("Leverandør bygger", "Vendor builds"),
        "citizen_facing": ("Borgerrettet", "Citizen-facing"),
        "systems": ("Systemer", "Systems"),
        "organisation": ("Organisation", "Organisation"),
        "rule": ("Regel", "Rule"),
    },
    "sector": {
        "municipality": ("kommune", "municipality"),
        "region": ("region", "region"),
        "cross": ("tværgående (kommuner og regioner)", "cross-sector (municipalities and regions)"),
        "state": ("staten", "the state"),
    },
    "data": {
        "personal": ("personoplysninger", "personal data"),
        "health_records": ("journaldata/sundhedsdata", "health records"),
        "other_authority_system": ("data i andre myndigheders eller leverandørers systemer", "data in other systems"),
        "free_text": ("fritekst", "free text"),
        "images": ("billeder/scanninger", "images/scans"),
        "sound": ("lyd", "sound"),
    },
    "phase": {
        "idea": ("idé", "idea"),
        "pilot": ("pilot", "pilot"),
        "development": ("udvikling", "development"),
        "operation": ("drift", "operation"),
    },
    "bool": {"true": ("ja", "yes"), "false": ("nej", "no")},
}


def t(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` ('da' or 'en'), with ``{placeholders}`` filled in."""
    da, en = TEXTS[key]
    text = en if lang == "en" else da
    return text.format(**values) if values else text


def value_label(field: str, value: str, lang: str) -> str:
    """A profile value as words: ('data', 'health_records') -> 'journaldata/sundhedsdata'."""
    vocabulary = {"decision_support": "bool", "vendor": "bool", "citizen_facing": "bool"}.get(field, field)
    if vocabulary == "domain":
        return label("domain", value, lang).lower()
    pair = PROFILE_LABELS.get(vocabulary, {}).get(value)
    if pair is None:
        return value
    return pair[1] if lang == "en" else pair[0]
