"""The interface texts, in Danish (the default) and English."""

from __future__ import annotations

__all__ = ["EXAMPLE_QUESTIONS", "TEXTS", "t"]

TEXTS: dict[str, tuple[str, str]] = {
    # shell
    "app_title": ("Erfaringer fra signaturprojekterne", "Experiences from the signature projects"),
    "english": ("English", "English"),
    "nav_chat": ("Spørg", "Ask"),
    "nav_projects": ("Projekter som mit", "Projects like mine"),
    "nav_overview": ("Overblik", "Overview"),
    # start-up and index
    "loading_model": ("Indlæser sprogmodellen …", "Loading the language model …"),
    "no_index": (
        "Der er intet indeks endnu. Det bygges nu fra korpusset (kun første gang).",
        "There is no index yet. It is being built from the corpus now (first start only).",
    ),
    "building": ("Bygger indekset", "Building the index"),
    "phase_chunk": ("deler erfaringerne op", "chunking the experiences"),
    "phase_embed": ("beregner vektorer", "embedding"),
    "phase_write": ("skriver indekset", "writing the index"),
    "built": ("Indekset er bygget: version {version}.", "The index is built: version {version}."),
    "stale": (
        "Indekset er forældet i forhold til korpusset: {details}",
        "The index is out of date with the corpus: {details}",
    ),
    "rebuild": ("Genopbyg indekset", "Rebuild the index"),
    "index_problem": ("Indekset kan ikke bruges: {problem}", "The index cannot be used: {problem}"),
    "model_problem": ("Sprogmodellen kan ikke indlæses: {problem}", "The language model cannot be loaded: {problem}"),
    "build_failed": ("Indekset kunne ikke bygges: {problem}", "The index could not be built: {problem}"),
    "new_version": ("Nyt indeks indlæst: version {version}", "New index loaded: version {version}"),
    "settings_problem": ("Ugyldig indstilling: {problem}", "Invalid setting: {problem}"),
    "corpus_problem": (
        "Korpusset kan ikke læses, så kortene viser kun uddragene fra indekset: {problem}",
        "The corpus cannot be read, so cards show only the excerpts from the index: {problem}",
    ),
    # chat
    "chat_intro": (
        "Stil et spørgsmål om jeres AI-projekt – på dansk eller engelsk. Svarene er erfaringer fra rapporten "
        "*Status på signaturprojekterne 2022* med kildehenvisninger.",
        "Ask a question about your AI project – in Danish or English. The answers are experiences from the "
        "report *Status på signaturprojekterne 2022*, with their sources.",
    ),
    "chat_placeholder": ("Skriv dit spørgsmål …", "Type your question …"),
    "try_asking": ("Prøv fx at spørge:", "For example, ask:"),
    "searching": ("Søger i erfaringerne …", "Searching the experiences …"),
    "overview": ("Kort fortalt", "In short"),
    "overview_note": (
        "Citater fra erfaringerne nedenfor; tallene henviser til kortene.",
        "Quoted from the experiences below (in the report's language); the numbers refer to the cards.",
    ),
    "no_overview": (
        "Ingen enkelt sætning svarer direkte – se erfaringerne nedenfor.",
        "No single sentence answers directly – see the experiences below.",
    ),
    "experiences": ("Erfaringer", "Experiences"),
    "followup": ("Opfølgning – søgt som: «{query}»", "Follow-up – searched as: “{query}”"),
    "sector_from_question": ("Sektor fra spørgsmålet: {sectors}", "Sector from the question: {sectors}"),
    "filters_used": ("Filtre: {filters}", "Filters: {filters}"),
    "no_match": (
        "Rapporten har ingen erfaringer, der svarer på dette spørgsmål. Spørgsmålet er gemt, så kuratorerne "
        "kan se, hvad der mangler.",
        "The report has no experiences that answer this question. The question has been logged so the "
        "curators can see what is missing.",
    ),
    "no_match_filtered": (
        "Prøv også uden filtrene – de kan have udelukket svaret.",
        "Also try without the filters – they may have excluded the answer.",
    ),
    "covered_topics": (
        "Rapporten dækker de syv udfordringsområder:",
        "The report covers the seven challenge areas:",
    ),
    "area_question": ("Hvad lærte projekterne om {area}?", "What did the projects learn about {area}?"),
    "example_questions": ("Eller spørg fx:", "Or ask, for example:"),
    "question_problem": ("Spørgsmålet kan ikke besvares: {problem}", "The question cannot be answered: {problem}"),
    "new_conversation": ("Ny samtale", "New conversation"),
    "export": ("Hent samtalen (Markdown)", "Download the conversation (Markdown)"),
    "feedback_prompt": ("Var svaret nyttigt?", "Was this answer useful?"),
    "feedback_comment": ("Kommentar (valgfri)", "Comment (optional)"),
    "feedback_send": ("Send kommentar", "Send comment"),
    "feedback_thanks": ("Tak for din feedback.", "Thank you for your feedback."),
    "feedback_failed": ("Feedback kunne ikke gemmes: {problem}", "Feedback could not be saved: {problem}"),
    "gap_failed": ("Spørgsmålet kunne ikke logges: {problem}", "The question could not be logged: {problem}"),
    # filters
    "filters": ("Filtre", "Filters"),
    "filters_help": ("Gælder for det næste svar.", "Apply to the next answer."),
    "choose": ("Vælg …", "Choose …"),
    "filter_kind": ("Type", "Kind"),
    "filter_area": ("Udfordringsområde", "Challenge area"),
    "filter_sector": ("Sektor", "Sector"),
    "filter_domain": ("Domæne", "Domain"),
    "filter_status": ("Projektstatus", "Project status"),
    "active_filters": ("Aktive filtre: {filters}", "Active filters: {filters}"),
    "clear_filters": ("Nulstil filtre", "Clear filters"),
    # cards
    "project": ("Projekt", "Project"),
    "source": ("Kilde", "Source"),
    "section": ("afsnit", "section"),
    "page": ("s.", "p."),
    "whole_entry": ("Hele erfaringen", "The whole entry"),
    "summary": ("Resumé", "Summary"),
    "tags": ("Emner", "Topics"),
    "period": ("Periode", "Period"),
    "grant": ("Bevilling", "Grant"),
    "mio_kr": ("{amount} mio. kr.", "DKK {amount} million"),
    "entry_id": ("Id", "Id"),
    # projects like mine
    "projects_title": ("Projekter som mit", "Projects like mine"),
    "projects_intro": (
        "Beskriv jeres projekt med et par sætninger: domæne, data og formål. Så finder vi de signaturprojekter, "
        "der ligner mest, hvad der skete med dem, og hvad de lærte.",
        "Describe your project in a few sentences: domain, data and aim. We find the most similar signature "
        "projects, what happened to them, and what they learned.",
    ),
    "projects_placeholder": (
        "Fx: Vi vil bruge journaldata til at forudsige genindlæggelser af ældre borgere, så hjemmeplejen kan "
        "sætte ind tidligere.",
        "E.g.: We want to use health records to predict readmissions of elderly citizens so home care can act earlier.",
    ),
    "projects_description": ("Jeres projekt", "Your project"),
    "projects_domain": ("Domæne (valgfrit)", "Domain (optional)"),
    "projects_submit": ("Find lignende projekter", "Find similar projects"),
    "projects_empty": ("Skriv en kort beskrivelse først.", "Write a short description first."),
    "projects_none": ("Ingen projekter passer til beskrivelsen.", "No projects match the description."),
    "projects_found": ("De {n} mest lignende signaturprojekter:", "The {n} most similar signature projects:"),
    "what_happened": ("Hvad skete der", "What happened"),
    "ongoing_at_report": (
        "Projektet var i gang, da rapporten blev skrevet.",
        "The project was ongoing when the report was written.",
    ),
    "lessons": ("Erfaringer fra projektet ({n})", "Lessons from the project ({n})"),
    "no_lessons": (
        "Rapporten har ingen håndteringseksempler knyttet til projektet.",
        "The report has no handling examples attached to this project.",
    ),
    # overview page
    "overview_title": ("Overblik over korpusset", "Overview of the corpus"),
    "overview_intro": (
        "Hvad erfaringsbasen indeholder, og hvilken version af indekset der svarer.",
        "What the experience base holds, and which version of the index answers.",
    ),
    "entries_total": ("Erfaringer i alt", "Experiences in total"),
    "per_kind": ("Erfaringer pr. type", "Experiences per kind"),
    "per_area": ("Erfaringer pr. udfordringsområde", "Experiences per challenge area"),
    "per_domain": ("Erfaringer pr. domæne", "Experiences per domain"),
    "count": ("Antal", "Count"),
    "index_status": ("Indeksets status", "Index status"),
    "index_version": ("Version", "Version"),
    "index_built": ("Bygget", "Built"),
    "index_model": ("Model", "Model"),
    "index_size": ("Indhold", "Contents"),
    "index_counts": ("{entries} erfaringer, {chunks} tekststykker", "{entries} experiences, {chunks} chunks"),
    "index_fresh": ("Indekset er opdateret i forhold til korpusset.", "The index is up to date with the corpus."),
    "index_missing": ("Der er intet brugbart indeks: {problem}", "There is no usable index: {problem}"),
    "curators": ("For kuratorer", "For curators"),
    "gaps": ("Ubesvarede spørgsmål (hyppigste først)", "Unanswered questions (most frequent first)"),
    "no_gaps": ("Ingen ubesvarede spørgsmål endnu.", "No unanswered questions yet."),
    "negative_feedback": ("Svar med tommelfinger ned", "Answers with thumbs down"),
    "no_negative": ("Ingen negativ feedback endnu.", "No negative feedback yet."),
    "asked_times": ("{n}×", "{n}×"),
}

EXAMPLE_QUESTIONS: dict[str, tuple[str, ...]] = {
    "da": (
        "Skal vores algoritme CE-mærkes som medicinsk udstyr?",
        "Hvordan har projekterne fået adgang til data fra fagsystemerne?",
        "Hvordan sikrer vi ledelsesopbakning til et AI-projekt?",
    ),
    "en": (
        "Does our algorithm need CE marking as a medical device?",
        "How did the projects get access to data in the case systems?",
        "How do we secure management support for an AI project?",
    ),
}


def t(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` ('da' or 'en'), with ``{placeholders}`` filled in."""
    da, en = TEXTS[key]
    text = en if lang == "en" else da
    return text.format(**values) if values else text
