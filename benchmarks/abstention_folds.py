"""The no-match model's yardsticks side by side: held-out folds and leave-one-spent-blind-set-out (issue 10).

Trains the no-match model on the package's training data exactly as ``lessons build`` does
(:func:`lessons.abstention.train_model` on the same features), for one or more named
variants, and prints for each the combined rule's rates in % (answerable → ``no_match`` /
answerable → ``weak`` / off-topic → ``no_match`` / off-topic → ``match``):

* **spread folds**: answerable questions held out at random within their category,
  off-topic ones by whole category (the build's own calibration scheme);
* **whole-theme folds**: both held out by whole category (a theme nobody wrote);
* **LOBO**: leave one spent blind set out — train and calibrate without its questions
  (answerable and off-topic), then judge them as the search would (their detected language
  picks per-language cut-offs, if any); pooled, per written language and per set.

It reads only the spent blind sets named in :data:`lessons.abstention.SPENT_BLIND_SETS`
(their questions are training data already); any other file is refused before it is opened,
so an unspent set can never be measured or tuned on through it.

Run (single-threaded BLAS recommended on a shared machine)::

    OMP_NUM_THREADS=1 python -m benchmarks.abstention_folds models/multilingual-e5-small \\
        --index index --variant landed --variant per_language_match

``--index`` reuses the passage and training-question vectors of an index built with the same
model (only texts it lacks are embedded); without it every text is embedded (minutes).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from lessons.abstention import (
    SHORT_GROUPS,
    SPENT_BLIND_SETS,
    TrainingQuestion,
    held_out_rates,
    train_model,
)
from lessons.build import _training_set
from lessons.chunking import chunk_entries
from lessons.corpus import load_corpus
from lessons.embedding import SentenceTransformerEmbedder, model_fingerprint
from lessons.evaluation import EvalQuestion, load_questions
from lessons.search import detect_language, own_lexical_scores, passage_coverage_scores, passage_subject_scores
from lessons.store import load_index

__all__ = [
    "VARIANTS",
    "Features",
    "UnspentSetError",
    "Variant",
    "compute_features",
    "leave_one_set_out",
    "load_spent",
    "main",
    "measure",
]

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "eval"
RATE_LABELS = ("answerable_no_match", "answerable_weak", "off_topic_no_match", "off_topic_match")


class UnspentSetError(ValueError):
    """A question file that is not a spent blind set: the benchmark never reads it."""


def load_spent(name: str, eval_dir: Path = EVAL_DIR) -> list[EvalQuestion]:
    """The questions of one spent blind set, by file name; anything else is refused before it is opened.

    The name must be one of :data:`SPENT_BLIND_SETS`, and the file must be that regular file
    directly in ``eval_dir`` (not a link to another file): an unspent set (the yardstick still
    to be measured) cannot be loaded under any name.
    """
    if name not in SPENT_BLIND_SETS:
        raise UnspentSetError(f"{name!r} is not a spent blind set (spent: {', '.join(SPENT_BLIND_SETS)}); not read")
    path = eval_dir / name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != eval_dir.resolve():
        raise UnspentSetError(f"{path} is not the regular file of the spent set {name}; not read")
    return load_questions(path)


def _key(text: str) -> str:
    """Case, spacing and trailing punctuation aside, as the eval-set tests compare questions."""
    return " ".join(text.lower().split()).rstrip("?.!:; ")


@dataclass(frozen=True)
class Features:
    """Every training question with what the model reads of it: vector, lexical, coverage, subject, language."""

    questions: tuple[TrainingQuestion, ...]
    vectors: npt.NDArray[np.float32]
    lexical: npt.NDArray[np.float64]
    coverage: npt.NDArray[np.float64]
    subject: npt.NDArray[np.float64]
    detected: tuple[str, ...]  # the language the search detects for each text

    def subset(self, keep: npt.NDArray[np.bool_]) -> Features:
        """The questions in ``keep``, in order."""
        index = np.flatnonzero(keep)
        return Features(
            questions=tuple(self.questions[i] for i in index),
            vectors=self.vectors[index],
            lexical=self.lexical[index],
            coverage=self.coverage[index],
            subject=self.subject[index],
            detected=tuple(self.detected[i] for i in index),
        )


def compute_features(model: str, index_dir: Path | None = None, corpus_dir: Path | None = None) -> Features:
    """The features of the package's training questions for the corpus, as the build computes them.

    With ``index_dir`` (an index built with the same model) its passage vectors and the vectors
    of the training texts it holds are reused; the rest is embedded with the model.
    """
    entries = load_corpus(corpus_dir or ROOT / "corpus").retrievable()
    questions = tuple(_training_set(entries))
    texts = [q.text for q in questions]
    known: dict[str, npt.NDArray[np.float32]] = {}
    embedder: SentenceTransformerEmbedder | None = None
    if index_dir is not None:
        data = load_index(index_dir)
        if data.manifest.model_fingerprint != model_fingerprint(model, data.manifest.dimension):
            raise SystemExit(f"the index in {index_dir} was built with another model ({data.manifest.model})")
        chunk_texts = [c.text for c in data.chunks]
        chunk_vectors = data.vectors()
        if data.no_match_model is not None:
            known = dict(zip(data.no_match_texts, data.no_match_model.reference, strict=True))
    else:
        embedder = SentenceTransformerEmbedder(model, threads=1)
        chunk_texts = [c.text for c in chunk_entries(entries)]
        chunk_vectors = embedder.embed_documents(chunk_texts)
    todo = [t for t in texts if t not in known]
    if todo:
        embedder = embedder or SentenceTransformerEmbedder(model, threads=1)
        for start in range(0, len(todo), 64):
            batch = todo[start : start + 64]
            known.update(zip(batch, embedder.embed_queries(batch), strict=True))
    vectors = np.stack([known[t] for t in texts]).astype(np.float32)
    with threadpool_limits(limits=1):
        coverage = passage_coverage_scores(chunk_texts, chunk_vectors, texts, vectors)
        subject = passage_subject_scores(chunk_vectors, vectors)
    return Features(
        questions=questions,
        vectors=vectors,
        lexical=np.asarray(own_lexical_scores(chunk_texts, texts), dtype=np.float64),
        coverage=np.asarray(coverage, dtype=np.float64),
        subject=np.asarray(subject, dtype=np.float64),
        detected=tuple(detect_language(t) for t in texts),
    )


@dataclass(frozen=True)
class Variant:
    """A way to train: :func:`train_model` options, and which training questions to keep."""

    description: str
    options: dict[str, Any] = field(default_factory=dict)
    keep: Callable[[TrainingQuestion], bool] = lambda _question: True
    drop_sets: tuple[str, ...] = ()  # spent sets whose questions are left out of training (still judged by LOBO)

    def mask(self, features: Features, eval_dir: Path = EVAL_DIR) -> npt.NDArray[np.bool_]:
        """Which training questions the variant trains on."""
        dropped = {_key(q.q) for name in self.drop_sets for q in load_spent(name, eval_dir)}
        return np.array([self.keep(q) and not (q.calibrates and _key(q.text) in dropped) for q in features.questions])


def _not_group_prefix(*prefixes: str) -> Callable[[TrainingQuestion], bool]:
    return lambda question: not question.group.startswith(prefixes)


def _spent_from(first: str) -> tuple[str, ...]:
    """``first`` and every set spent after it (SPENT_BLIND_SETS is in the order the sets were spent).

    A round's data is everything but these, so the old rounds' variants need no edit when a set is spent.
    """
    return SPENT_BLIND_SETS[SPENT_BLIND_SETS.index(first) :]


def _round_data(round_name: str, first: str) -> Variant:
    """A round's data and calibration as landed: no question of ``first`` (its yardstick) or of a set spent later."""
    yardstick = first.removesuffix(".yaml")
    return Variant(
        f"the {round_name} round's data and calibration: no question of a set spent from {yardstick} on",
        drop_sets=_spent_from(first),
    )


# The named variants; "landed" is what `lessons build` trains today.
VARIANTS: dict[str, Variant] = {
    "landed": Variant("the build's defaults"),
    "per_language_match": Variant("match cut-off per detected language", {"language_cutoffs": ("match",)}),
    "per_language_both": Variant("both cut-offs per detected language", {"language_cutoffs": ("no_match", "match")}),
    "fifth_round_data": Variant(
        "the fifth round's data and calibration: no question of a set spent from blind5 on, no sys_* category",
        {"no_match_holdout": "category"},
        keep=_not_group_prefix("off:sys_", "in:sys_"),
        drop_sets=_spent_from("blind5.yaml"),
    ),
    "sixth_round_data": Variant(
        "the sixth round's data and calibration: no question of a set spent from blind6 on, no sys_* category",
        {"no_match_holdout": "category"},
        keep=_not_group_prefix("off:sys_", "in:sys_"),
        drop_sets=_spent_from("blind6.yaml"),
    ),
    "seventh_round_data": _round_data("seventh", "blind8.yaml"),
    "eighth_round_data": _round_data("eighth", "blind9.yaml"),
    "ninth_round_data": _round_data("ninth", "blind10.yaml"),
    "tenth_round_data": _round_data("tenth", "blind11.yaml"),
    "eleventh_round_data": _round_data("eleventh", "blind12.yaml"),
    "twelfth_round_data": _round_data("twelfth", "blind13.yaml"),
    "whole_theme_no_match": Variant(
        "the sixth round's calibration: no_match cut-off also bounded on whole themes (the lower one)",
        {"no_match_holdout": "category"},
    ),
    "without_sys": Variant(
        "without the sixth round's systematic categories (sys_*)", keep=_not_group_prefix("off:sys_", "in:sys_")
    ),
    "without_sys_off": Variant("without the sixth round's systematic negatives", keep=_not_group_prefix("off:sys_")),
    "without_sys_in": Variant("without the sixth round's plain Danish positives", keep=_not_group_prefix("in:sys_")),
    "off_topic_match_1pct": Variant("off-topic bound 1 % on match", {"off_topic_match": 0.01}),
    "category_bound_10": Variant(
        "match cut-off: at most 10 % of held-out off-topic categories with a question at match",
        {"off_topic_unit": "category", "off_topic_match": 0.10},
    ),
    "category_bound_05": Variant(
        "match cut-off: at most 5 % of held-out off-topic categories with a question at match",
        {"off_topic_unit": "category", "off_topic_match": 0.05},
    ),
    "category_bound_02": Variant(
        "match cut-off: at most 2 % of held-out off-topic categories with a question at match",
        {"off_topic_unit": "category", "off_topic_match": 0.02},
    ),
    "feature_clip_05": Variant(
        "each weighed feature clipped to its held-out 0.5-99.5 % range before the combination", {"feature_clip": 0.005}
    ),
    "feature_clip_2": Variant(
        "each weighed feature clipped to its held-out 2-98 % range before the combination", {"feature_clip": 0.02}
    ),
    "agreement_1": Variant(
        "match needs probe and kNN each above the answerable 1 % quantile", {"match_agreement": 0.01}
    ),
    "agreement_2": Variant(
        "match needs probe and kNN each above the answerable 2 % quantile", {"match_agreement": 0.02}
    ),
    "density_in": Variant(
        "sixth feature: least Mahalanobis distance to an in-domain class (Ledoit-Wolf shared covariance)",
        {"density": "in"},
    ),
    "density_relative": Variant(
        "sixth feature: that distance minus the least one to an off-topic class (relative Mahalanobis)",
        {"density": "relative"},
    ),
    "density_gate_2": Variant(
        "match needs the in-domain density distance within the answerable 98 % quantile", {"density_gate": 0.02}
    ),
    "density_gate_5": Variant(
        "match needs the in-domain density distance within the answerable 95 % quantile", {"density_gate": 0.05}
    ),
    "coverage_gate_10": Variant("match needs coverage above the answerable 10 % quantile", {"coverage_gate": 0.10}),
    "coverage_gate_3": Variant("match needs coverage above the answerable 3 % quantile", {"coverage_gate": 0.03}),
    "coverage_gate_5": Variant("match needs coverage above the answerable 5 % quantile", {"coverage_gate": 0.05}),
}


def _train(features: Features, variant: Variant, seed: int) -> tuple[Any, Any]:
    options = {"languages": features.detected, "seed": seed, **variant.options}
    return train_model(
        features.vectors,
        features.questions,
        features.lexical.tolist(),
        features.coverage.tolist(),
        features.subject.tolist(),
        **options,
    )


def leave_one_set_out(
    features: Features,
    variant: Variant,
    sets: Sequence[str] = SPENT_BLIND_SETS,
    seed: int = 0,
    eval_dir: Path = EVAL_DIR,
) -> dict[str, dict[str, float]]:
    """LOBO: for each spent set, train without its questions and judge them; rates pooled, per language, per set.

    Also for the very short questions (``short``: those of :data:`lessons.abstention.SHORT_GROUPS`).
    """
    keep = variant.mask(features, eval_dir)
    states: list[str] = []
    written: list[str] = []
    answerable: list[bool] = []
    short: list[bool] = []
    where: list[str] = []
    for name in sets:
        keys = {_key(q.q) for q in load_spent(name, eval_dir)}
        # judged whether or not the variant trains on it (a variant that leaves a set out sees it unseen)
        test = np.array([_key(q.text) in keys and q.calibrates for q in features.questions])
        model, _ = _train(features.subset(keep & ~test), variant, seed)
        for i in np.flatnonzero(test):
            score = model.score(
                features.vectors[i], features.lexical[i], float(features.coverage[i]), float(features.subject[i])
            )
            coverage = float(features.coverage[i])
            states.append(str(model.confidence(score, language=features.detected[i], coverage=coverage).value))
            question = features.questions[i]
            written.append(question.language)
            answerable.append(question.in_domain)
            short.append(question.group in SHORT_GROUPS)
            where.append(name)
    shown = np.array(["no" if s == "no_match" else s for s in states])
    is_in = np.array(answerable)
    lang = np.array(written)
    sets_of = np.array(where)
    subsets = {"all": np.ones(len(shown), dtype=bool), "da": lang == "da", "en": lang == "en"}
    subsets["short"] = np.array(short, dtype=bool)  # the very short questions (SHORT_GROUPS)
    subsets.update({name: sets_of == name for name in sets})
    return {name: held_out_rates([shown], is_in & mask, ~is_in & mask) for name, mask in subsets.items()}


def measure(features: Features, variant: Variant, seed: int = 0) -> dict[str, Any]:
    """One variant's figures on the three yardsticks, with its cut-offs and training time."""
    keep = variant.mask(features)
    started = time.process_time()
    model, report = _train(features.subset(keep), variant, seed)
    seconds = time.process_time() - started
    return {
        "questions": int(keep.sum()),
        "training_cpu_seconds": round(seconds, 1),
        "cutoffs": {"all": model.cutoffs["combined"]}
        | {lang: rules["combined"] for lang, rules in model.language_cutoffs.items()},
        "folds": report.held_out_detail,
        "lobo": leave_one_set_out(features, variant, seed=seed),
    }


def _row(rates: dict[str, float]) -> str:
    return " / ".join(f"{100 * rates[k]:.1f}" if k in rates else "–" for k in RATE_LABELS)


def _print(name: str, figures: dict[str, Any]) -> None:
    print(f"\n## {name}: {VARIANTS[name].description} ({figures['questions']} training texts)")
    print(f"training: {figures['training_cpu_seconds']} s CPU; combined cut-offs (no_match below, match from):")
    for lang, (low, high) in figures["cutoffs"].items():
        print(f"  {lang}: {low:.3f}, {high:.3f}")
    print("rates in %: answerable no_match / weak / off-topic no_match / match")
    for scheme, subsets in figures["folds"].items():
        for subset, rates in subsets.items():
            print(f"  {scheme:<12} {subset:<12} {_row(rates)}")
    for subset, rates in figures["lobo"].items():
        print(f"  {'LOBO':<12} {subset:<12} {_row(rates)}")


def main(argv: Sequence[str] | None = None) -> None:
    """Measure the named variants and print their figures (and write them as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.abstention_folds", description=__doc__.split("\n")[0])
    parser.add_argument("model", help="the sentence-transformers model folder the index is built with")
    parser.add_argument("--index", type=Path, help="an index built with that model, to reuse its vectors")
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: landed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    features = compute_features(args.model, args.index)
    out = {}
    with threadpool_limits(limits=1):
        for name in args.variant or ["landed"]:
            out[name] = measure(features, VARIANTS[name], seed=args.seed)
            _print(name, out[name])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
