"""The no-match decision: is a question about what the corpus covers, and how sure are we?

e5's cosines are compressed (an off-topic question still scores about 0.8 against the best
chunk), so a threshold on retrieval scores does not generalise to new questions. Instead a
small model looks at the *question* itself:

1. **Probe.** An L2-regularised logistic regression on the question vector (the embedder's
   query prompt), trained with outlier exposure: a few hundred in-domain questions
   (``data/in_domain.yaml`` plus the corpus entries' titles, summaries and project names)
   against many varied off-topic questions in both languages (``data/off_topic.yaml`` and
   the background phrases).
2. **kNN margin.** The mean cosine of the question's ``k`` nearest in-domain training
   questions minus the same for the off-topic ones.
3. **Lexical evidence.** The best BM25 score of the question's own words in the corpus.
4. **Coverage.** The IDF-weighted share of the question's subject words (its content
   words minus generic framing words such as municipality, region, project, data) that
   occur in the passages it retrieved (:class:`lessons.search._Coverage`): a question that
   names a corpus place or borrows the domain's framing but asks about something else
   retrieves passages that lack its subject.
5. **Subject similarity.** The best cosine between the question and the passages once the
   passages' mean direction (the domain every passage shares) is projected out of both
   (:class:`lessons.search._SubjectSimilarity`): what is left is each text's own subject.

A sixth feature can be weighed, off by default (measured in the ninth round and not adopted,
docs/retrieval.md): the Mahalanobis distance of the question to the written in-domain questions,
one Gaussian per category and language under a shared Ledoit–Wolf covariance
(:func:`fit_density`, ``train_model(density=...)``). The same distance can instead gate ``match``,
also off by default (``train_model(density_gate=...)``, the tenth round): a question farther from every
in-domain class than the answerable held-out questions' high conformal quantile is held at ``weak``.

A second logistic regression combines them into one score. Both stages are fitted at
``lessons build`` with numpy (Newton's method, no scikit-learn on any path), so any
``LESSONS_MODEL`` gets its own model, stored in the index version as plain arrays.

**Three states from one score.** The cut-offs come from split-conformal calibration on
in-domain questions the model was *not* trained on: the training questions are split into
folds, each fold is scored by a model fitted without it, three times over different fold
assignments, and the cut-offs are the empirical quantiles of the pooled held-out scores
(one assignment alone moves them with the luck of which questions share a fold).
Off-topic questions are held out by whole *category* (a new subject arrives unseen);
in-domain questions, since the fifth round, are spread over the folds at random within
each category (a new answerable question is about the corpus' fixed domain, whose other
questions are in training; holding whole in-domain themes out made the cut-offs
conservative on every spent blind set, see docs/retrieval.md). A new answerable question
is then flagged ``no_match`` with probability at most ``false_no_match`` (2 %), and falls
below ``match`` with probability at most ``false_weak`` (10 %) (both quantiles of the spread
hold-out's scores); the match cut-off is also
at least the score that at most ``off_topic_match`` (2 %) of the held-out off-topic
questions reach. Off-topic questions get no guarantee of being caught (nobody can list
every topic), so the same held-out folds, which leave whole off-topic categories out,
measure how often they are; :class:`TrainingReport` records it.

This module depends only on vectors: any :class:`lessons.embedding.Embedder` works.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, cached_property
from importlib import resources
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from lessons.yamlio import load_yaml

__all__ = [
    "ANSWERABLE_HOLDOUTS",
    "CUTOFF_KINDS",
    "DENSITY_FEATURE",
    "DENSITY_KINDS",
    "FEATURES",
    "OFF_TOPIC_UNITS",
    "RULES",
    "SHORT_GROUPS",
    "SPENT_BLIND_SETS",
    "Confidence",
    "DensityModel",
    "NoMatchModel",
    "TrainingQuestion",
    "TrainingReport",
    "conformal_cutoff",
    "fit_density",
    "fit_logistic",
    "held_out_rates",
    "off_topic_match_cutoff",
    "package_questions",
    "train_model",
    "training_questions",
]

Vectors = npt.NDArray[np.float32]
FloatArray = npt.NDArray[np.float64]

# The blind question sets in eval/ that are spent and are training data (their questions are in data/):
# the only ones `benchmarks.abstention_folds` may read for its leave-one-blind-set-out yardstick, and the
# spent sets `tests/test_eval_sets.py` checks. A set joins only after its last measurement is reported.
SPENT_BLIND_SETS = (
    "blind.yaml",
    "blind2.yaml",
    "blind3.yaml",
    "blind4.yaml",
    "blind5.yaml",
    "blind6.yaml",
    "blind7.yaml",
    "blind8.yaml",
    "blind9.yaml",
    "blind10.yaml",
    "blind11.yaml",
    "blind12.yaml",
    "blind13.yaml",
)

# The decision rules `lessons eval` measures side by side; "combined" is the one that answers.
RULES = ("probe", "knn", "combined")
# What the combination weighs, in order; a model built before coverage existed weighs the first three,
# one built before subject similarity existed the first four.
FEATURES = ("probe", "knn", "lexical", "coverage", "subject")
# A sixth feature a model may weigh after those five, off by default (``train_model(density=...)``): how far
# the question lies from the written in-domain questions in the Mahalanobis sense (:class:`DensityModel`).
DENSITY_FEATURE = "density"
# The density feature's kinds: "in", the least Mahalanobis distance to an in-domain class (Podolskiy et al.
# 2021); "relative", that minus the least distance to an off-topic class (after Ren et al. 2021).
DENSITY_KINDS = ("in", "relative")


class Confidence(StrEnum):
    """How well the corpus answers a question."""

    MATCH = "match"
    WEAK = "weak"
    NO_MATCH = "no_match"


# --- training data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingQuestion:
    """One labelled training text. ``group`` names its fold unit: a category, or a corpus-derived kind."""

    text: str
    in_domain: bool
    group: str
    language: str = ""

    @property
    def calibrates(self) -> bool:
        """Whether it is a written question whose held-out score may set the cut-offs or measure them."""
        return self.group.startswith(("in:", "off:"))


def _package_yaml(name: str) -> Any:
    return load_yaml(resources.files("lessons").joinpath(f"data/{name}").read_bytes())


@cache
def package_questions() -> tuple[TrainingQuestion, ...]:
    """The written questions shipped with the package: in-domain and off-topic, by category and language."""
    out: list[TrainingQuestion] = []
    for name, in_domain, prefix in (("in_domain.yaml", True, "in:"), ("off_topic.yaml", False, "off:")):
        data = _package_yaml(name)
        categories = data.get("categories") if isinstance(data, dict) else None
        if not isinstance(categories, dict):
            raise ValueError(f"package data {name} has no `categories` mapping")
        for category, languages in categories.items():
            if not isinstance(languages, dict):
                raise ValueError(f"package data {name}: category {category!r} is not a mapping of languages")
            for language, questions in languages.items():
                for question in questions or ():
                    text = " ".join(str(question).split())
                    if text:
                        out.append(TrainingQuestion(text, in_domain, f"{prefix}{category}", str(language)))
    return tuple(out)


def training_questions(
    titles: Iterable[str] = (),
    summaries: Iterable[str] = (),
    projects: Iterable[str] = (),
    background: Iterable[str] = (),
) -> list[TrainingQuestion]:
    """Everything the model trains on: the package's questions, plus corpus-derived positives and the background.

    Titles, summaries and project names of the corpus entries make the probe follow the
    corpus as curators change it; the off-topic background phrases are extra negatives.
    Duplicates are dropped (first occurrence wins).
    """
    out = list(package_questions())
    for group, texts, in_domain in (
        ("corpus:title", titles, True),
        ("corpus:summary", summaries, True),
        ("corpus:project", projects, True),
        ("background", background, False),
    ):
        out.extend(TrainingQuestion(" ".join(t.split()), in_domain, group) for t in texts if t and t.strip())
    seen: set[str] = set()
    unique = []
    for question in out:
        if question.text not in seen:
            seen.add(question.text)
            unique.append(question)
    return unique


def training_hash(questions: Sequence[TrainingQuestion]) -> str:
    """What the model was trained from (texts, labels, groups), so a rebuild can tell whether it changed."""
    digest = hashlib.sha256()
    for q in questions:
        digest.update(f"{int(q.in_domain)}\t{q.group}\t{q.text}\n".encode())
    return digest.hexdigest()


# --- fitting -----------------------------------------------------------------------------------


def _sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free
    return out


def fit_logistic(
    x: npt.ArrayLike, y: npt.ArrayLike, *, l2: float, balanced: bool = True, max_iter: int = 50
) -> tuple[FloatArray, float]:
    """An L2-regularised logistic regression fitted by Newton's method; returns (weights, bias).

    The bias is not penalised. ``balanced`` weighs each class to half the total, so the
    many corpus-derived positives do not drown the negatives.
    """
    features = np.asarray(x, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    n, d = features.shape
    if n == 0 or labels.min() == labels.max():
        raise ValueError("fitting needs examples of both classes")
    design = np.hstack([features, np.ones((n, 1))])
    weights = np.ones(n)
    if balanced:
        positives = labels.sum()
        weights = np.where(labels == 1, n / (2 * positives), n / (2 * (n - positives)))
    penalty = l2 * np.eye(d + 1)
    penalty[-1, -1] = 0.0
    theta = np.zeros(d + 1)
    for _ in range(max_iter):
        p = _sigmoid(design @ theta)
        gradient = design.T @ (weights * (p - labels)) + penalty @ theta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + penalty
        hessian[np.diag_indices_from(hessian)] += 1e-9
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    return theta[:-1].copy(), float(theta[-1])


def conformal_cutoff(scores: Sequence[float] | FloatArray, alpha: float) -> float:
    """The cut-off below which at most ``alpha`` of new exchangeable scores fall (split-conformal).

    With n calibration scores sorted ascending, it is the k-th smallest, k = ⌊α(n+1)⌋; a new
    score is flagged when strictly below it, which happens with probability at most α.
    With too few scores for that (k = 0) nothing is flagged.
    """
    ordered = np.sort(np.asarray(scores, dtype=np.float64))
    k = math.floor(alpha * (len(ordered) + 1))
    if k < 1:
        return -math.inf
    return float(ordered[k - 1])


def _knn_margin(reference: Vectors, labels: npt.NDArray[np.int8], queries: Vectors, k: int) -> FloatArray:
    """Mean cosine to the k nearest in-domain references minus the same to the off-topic ones."""
    similarities = np.asarray(queries, dtype=np.float32) @ reference.T
    out = np.zeros(len(queries), dtype=np.float64)
    for cls, sign in ((1, 1.0), (0, -1.0)):
        block = similarities[:, labels == cls]
        kk = min(k, block.shape[1])
        if kk == 0:
            continue
        top = np.partition(block, block.shape[1] - kk, axis=1)[:, -kk:]
        out += sign * top.mean(axis=1)
    return out


# --- density of the written questions ------------------------------------------------------------


@dataclass(frozen=True)
class DensityModel:
    """Class-conditional Gaussians with one shared shrinkage covariance over the written training questions.

    Each class is one written category in one language (``in:x`` Danish, ``in:x`` English, …), so the
    language offset sits in the class means and not in the shared covariance (the notes' per-language
    mean). Stored whitened: ``transform`` W satisfies WᵀW = Σ⁻¹, and ``means`` are the classes' means
    times Wᵀ, so a question costs one matrix–vector product (z = Wq) and the squared distance to class
    c is ‖z − Wm_c‖².
    """

    kind: str  # one of DENSITY_KINDS
    transform: FloatArray  # (dimension, dimension) W
    means: FloatArray  # (classes, dimension), each class mean whitened
    in_class: npt.NDArray[np.bool_]  # (classes,), True for an in-domain class

    def values(self, vectors: npt.ArrayLike) -> FloatArray:
        """Each vector's feature: the least squared distance to an in-domain class (minus that to an off-topic one)."""
        z = np.atleast_2d(np.asarray(vectors, dtype=np.float64)) @ self.transform.T
        squared = (z * z).sum(axis=1)[:, None] - 2.0 * (z @ self.means.T) + (self.means * self.means).sum(axis=1)
        out: FloatArray = squared[:, self.in_class].min(axis=1)
        if self.kind == "relative":
            out = out - squared[:, ~self.in_class].min(axis=1)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain lists for the model's params (no pickle)."""
        return {
            "kind": self.kind,
            "transform": self.transform.tolist(),
            "means": self.means.tolist(),
            "in_class": [bool(v) for v in self.in_class],
        }

    @classmethod
    def from_json(cls, raw: Any, dimension: int) -> DensityModel:
        """Rebuild from :meth:`to_json`; ValueError when the parts do not fit the model's dimension or each other."""
        if not isinstance(raw, dict) or raw.get("kind") not in DENSITY_KINDS:
            raise ValueError(f"density needs a kind of {DENSITY_KINDS}, a transform, means and in_class")
        transform = np.asarray(raw.get("transform"), dtype=np.float64)
        means = np.asarray(raw.get("means"), dtype=np.float64)
        in_class = np.asarray(raw.get("in_class"), dtype=bool)
        if transform.shape != (dimension, dimension) or means.ndim != 2 or means.shape[1] != dimension:
            raise ValueError(f"density transform {transform.shape} and means {means.shape} do not fit {dimension}")
        if in_class.shape != (len(means),) or not in_class.any() or (raw["kind"] == "relative" and in_class.all()):
            raise ValueError("density in_class needs one flag per class mean, with the classes its kind compares")
        if not (np.isfinite(transform).all() and np.isfinite(means).all()):
            raise ValueError("non-finite density parameters")
        return cls(kind=str(raw["kind"]), transform=transform, means=means, in_class=in_class)


def _density_classes(questions: Sequence[TrainingQuestion], kind: str) -> npt.NDArray[np.int64]:
    """Each question's density class (an index; -1: not a class member), and which classes are in-domain.

    A class is a written category in one written language (in-domain ones always, off-topic ones for
    the relative kind); corpus-derived positives and the background phrases belong to none.
    """
    index: dict[tuple[str, str], int] = {}
    out = np.full(len(questions), -1, dtype=np.int64)
    prefixes = ("in:", "off:") if kind == "relative" else ("in:",)
    for i, q in enumerate(questions):
        if q.group.startswith(prefixes):
            out[i] = index.setdefault((q.group, q.language), len(index))
    return out


def fit_density(
    vectors: npt.ArrayLike, classes: npt.NDArray[np.int64], in_domain: npt.ArrayLike, kind: str
) -> DensityModel:
    """Fit the class means and their shared covariance, shrunk by Ledoit and Wolf's rule (numpy only).

    ``classes`` gives each vector's class (-1: left out), ``in_domain`` each vector's label. The
    covariance is the pooled within-class scatter S shrunk towards μI (μ = tr S / d) by the
    Ledoit–Wolf weight, estimated from the same residuals; it is whitened by its eigendecomposition.
    """
    if kind not in DENSITY_KINDS:
        raise ValueError(f"density kind {kind!r}, expected one of {DENSITY_KINDS}")
    x = np.asarray(vectors, dtype=np.float64)
    labels = np.asarray(in_domain, dtype=bool)
    members = classes >= 0
    present = np.unique(classes[members])
    if not len(present):
        raise ValueError("the density feature needs written in-domain questions")
    remap = np.full(int(classes.max()) + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    which = remap[classes[members]]
    sums = np.zeros((len(present), x.shape[1]))
    np.add.at(sums, which, x[members])
    counts = np.bincount(which, minlength=len(present)).astype(np.float64)
    means = sums / counts[:, None]
    in_class = np.zeros(len(present), dtype=bool)
    in_class[which[labels[members]]] = True
    if not in_class.any() or (kind == "relative" and in_class.all()):
        raise ValueError("the density feature needs written questions of both classes it compares")
    residuals = x[members] - means[which]
    n, d = residuals.shape
    scatter = residuals.T @ residuals / n
    mu = float(np.trace(scatter)) / d
    distance = float(((scatter - mu * np.eye(d)) ** 2).sum())
    spread = float(((residuals * residuals).sum(axis=1) ** 2).sum() - n * (scatter**2).sum()) / n**2
    shrink = 1.0 if distance <= 0 else min(1.0, max(0.0, spread) / distance)
    covariance = (1 - shrink) * scatter + shrink * mu * np.eye(d)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    transform = (eigenvectors / np.sqrt(np.maximum(eigenvalues, 1e-12))).T
    return DensityModel(kind=kind, transform=transform, means=means @ transform.T, in_class=in_class)


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoMatchModel:
    """The fitted decision: probe, kNN reference set, combination weights and calibrated cut-offs."""

    probe: FloatArray  # (dimension,)
    probe_bias: float
    reference: Vectors  # (n, dimension), the training questions' vectors
    reference_labels: npt.NDArray[np.int8]  # (n,), 1 in-domain, 0 off-topic
    combine: tuple[float, ...]  # weights of FEATURES, in order (a prefix: three or four in older indexes)
    combine_bias: float
    cutoffs: dict[str, tuple[float, float]]  # rule -> (no_match below, match from)
    neighbours: int = 10
    # language -> rule -> (no_match below, match from): cut-offs calibrated on that language's questions
    # alone (Mondrian); a question of another language, or without one, gets ``cutoffs``
    language_cutoffs: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    # the least coverage a question needs for the combined rule's match (None: no such gate)
    match_coverage: float | None = None
    # each weighed feature's (low, high) bounds: a question's feature is clipped to them before the
    # combination, so no single feature carries a question far past its training range (None: unbounded)
    feature_bounds: tuple[tuple[float, float], ...] | None = None
    # the least probe logit and kNN margin the combined rule's match needs (None: no agreement gate); a
    # question short of either has its combined score held just under the match cut-off
    match_agreement: tuple[float, float] | None = None
    # the density feature's fitted Gaussians, when the combination weighs it (a sixth weight; None: five)
    density: DensityModel | None = None
    # the density gate for match: in-domain Gaussians (kind "in") and the largest distance a match may have;
    # a question farther out has its combined score held just under the match cut-off (None: no gate)
    match_density: tuple[DensityModel, float] | None = None

    @cached_property
    def _indexes(self) -> tuple[Any, Any]:
        """FAISS inner-product indexes over the in-domain and off-topic references (single-threaded search)."""
        out = []
        for cls in (1, 0):
            index = faiss.IndexFlatIP(self.reference.shape[1])
            block = np.ascontiguousarray(self.reference[self.reference_labels == cls], dtype=np.float32)
            if len(block):
                index.add(block)
            out.append(index)
        return out[0], out[1]

    def knn_margin(self, vector: npt.ArrayLike) -> float:
        """Mean cosine of the k nearest in-domain references minus the same for the off-topic ones."""
        query = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        total = 0.0
        for index, sign in zip(self._indexes, (1.0, -1.0), strict=True):
            k = min(self.neighbours, index.ntotal)
            if k:
                distances, _ = index.search(query, k)
                total += sign * float(distances[0].mean())
        return total

    @property
    def dimension(self) -> int:
        """The vector dimension the model expects."""
        return int(self.probe.shape[0])

    def rule_scores(
        self, vector: npt.ArrayLike, lexical: float, coverage: float = 1.0, subject: float = 0.0
    ) -> dict[str, float]:
        """The score of each rule in :data:`RULES` for one question.

        From its vector, own-word BM25 score, coverage and subject similarity (the last two
        count only for a model that weighs them).
        """
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        probe = float(query[0].astype(np.float64) @ self.probe + self.probe_bias)
        knn = self.knn_margin(query)
        values = (probe, knn, float(lexical), float(coverage), float(subject))[: len(self.combine)]
        if self.density is not None:
            values = (*values, float(self.density.values(query)[0]))
        if self.feature_bounds is not None:
            values = tuple(min(max(v, low), high) for v, (low, high) in zip(values, self.feature_bounds, strict=True))
        combined = sum(w * v for w, v in zip(self.combine, values, strict=True)) + self.combine_bias
        if self.match_agreement is not None and (probe < self.match_agreement[0] or knn < self.match_agreement[1]):
            combined = min(combined, self._under_match)
        if self.match_density is not None and self.density_distance(query) > self.match_density[1]:
            combined = min(combined, self._under_match)
        return {"probe": probe, "knn": knn, "combined": combined}

    def density_distance(self, vector: npt.ArrayLike) -> float:
        """The question's least squared Mahalanobis distance to an in-domain class (the density gate's Gaussians)."""
        if self.match_density is None:
            raise ValueError("this model has no density gate")
        return float(self.match_density[0].values(vector)[0])

    @cached_property
    def _under_match(self) -> float:
        """The highest combined score under every match cut-off (pooled and per language)."""
        lowest = min([self.cutoffs["combined"][1], *(rules["combined"][1] for rules in self.language_cutoffs.values())])
        return float(np.nextafter(lowest, -math.inf))

    @property
    def features(self) -> tuple[str, ...]:
        """The features the combination weighs (a prefix of :data:`FEATURES`, then the density feature if any)."""
        return (*FEATURES, DENSITY_FEATURE)[: len(self.combine)]

    def score(self, vector: npt.ArrayLike, lexical: float, coverage: float = 1.0, subject: float = 0.0) -> float:
        """The combined score (a logit: above 0 reads as in-domain)."""
        return self.rule_scores(vector, lexical, coverage, subject)["combined"]

    def cutoffs_for(self, language: str | None = None) -> dict[str, tuple[float, float]]:
        """The cut-offs a question of ``language`` is judged by (its language's, if calibrated, else the pooled)."""
        return self.language_cutoffs.get(language or "", self.cutoffs)

    def confidence(
        self, score: float, rule: str = "combined", language: str | None = None, coverage: float | None = None
    ) -> Confidence:
        """The state a score falls in under a rule's cut-offs (those of the question's language, if any).

        With a coverage gate (:attr:`match_coverage`) the combined rule's ``match`` also needs the
        question's ``coverage`` to reach it (given no coverage, the gate is not applied).
        """
        no_match_below, match_from = self.cutoffs_for(language)[rule]
        if score < no_match_below:
            return Confidence.NO_MATCH
        if score < match_from:
            return Confidence.WEAK
        gate = self.match_coverage
        if rule == "combined" and gate is not None and coverage is not None and coverage < gate:
            return Confidence.WEAK
        return Confidence.MATCH

    # -- storage: plain arrays plus a JSON-ready dict, never pickle --

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The array parts, for np.save(allow_pickle=False)."""
        return {
            "probe": np.append(self.probe, self.probe_bias).astype(np.float64),
            "reference": np.ascontiguousarray(self.reference, dtype=np.float32),
            "labels": self.reference_labels.astype(np.int8),
        }

    def params(self) -> dict[str, Any]:
        """The scalar parts, for the manifest."""
        out: dict[str, Any] = {
            "combine": [*self.combine, self.combine_bias],
            "cutoffs": {rule: list(pair) for rule, pair in self.cutoffs.items()},
            "neighbours": self.neighbours,
        }
        if self.match_coverage is not None:
            out["match_coverage"] = self.match_coverage
        if self.feature_bounds is not None:
            out["feature_bounds"] = [list(pair) for pair in self.feature_bounds]
        if self.match_agreement is not None:
            out["match_agreement"] = list(self.match_agreement)
        if self.density is not None:
            out["density"] = self.density.to_json()
        if self.match_density is not None:
            gaussians, limit = self.match_density
            out["match_density"] = {"limit": limit, "gaussians": gaussians.to_json()}
        if self.language_cutoffs:
            out["language_cutoffs"] = {
                language: {rule: list(pair) for rule, pair in rules.items()}
                for language, rules in self.language_cutoffs.items()
            }
        return out

    @classmethod
    def from_parts(cls, arrays: dict[str, npt.NDArray[Any]], params: dict[str, Any]) -> NoMatchModel:
        """Rebuild from :meth:`arrays` and :meth:`params`; ValueError when they do not fit together."""
        probe = np.asarray(arrays["probe"], dtype=np.float64)
        reference = np.asarray(arrays["reference"], dtype=np.float32)
        labels = np.asarray(arrays["labels"], dtype=np.int8)
        if probe.ndim != 1 or reference.ndim != 2 or reference.shape[1] != probe.shape[0] - 1:
            raise ValueError(f"probe {probe.shape} and reference {reference.shape} do not fit together")
        if labels.shape != (reference.shape[0],) or not set(np.unique(labels)) <= {0, 1}:
            raise ValueError("reference labels do not match the reference vectors")
        combine = [float(v) for v in params["combine"]]
        raw_density = params.get("density")  # absent unless the model weighs the density feature (ninth round)
        density = None if raw_density is None else DensityModel.from_json(raw_density, probe.shape[0] - 1)
        if len(combine) not in ((len(FEATURES) + 2,) if density is not None else (4, 5, len(FEATURES) + 1)):
            raise ValueError(
                f"combine needs {len(FEATURES)} weights (3 or 4 in older indexes, {len(FEATURES) + 1} with the density"
                " feature, which needs its density params) and a bias"
            )
        cutoffs = _parse_cutoffs(params["cutoffs"])
        by_language = {
            str(language): _parse_cutoffs(rules)
            for language, rules in dict(params.get("language_cutoffs") or {}).items()
        }
        pairs = [*cutoffs.values(), *(pair for rules in by_language.values() for pair in rules.values())]
        gate = params.get("match_coverage")  # absent in indexes built before the coverage gate
        match_coverage = None if gate is None else float(gate)
        values = [*combine, *(v for pair in pairs for v in pair if math.isfinite(v))]
        values += [match_coverage] if match_coverage is not None else []
        bounds = _parse_bounds(params.get("feature_bounds"), len(combine) - 1)  # absent before the eighth round
        raw_agreement = params.get("match_agreement")  # absent before the eighth round
        agreement = (
            None
            if raw_agreement is None
            else _stored_pair(raw_agreement, "match_agreement needs a probe and a kNN bound")
        )
        values += list(agreement or ())
        match_density = _parse_density_gate(params.get("match_density"), probe.shape[0] - 1)  # absent before the tenth
        values += [match_density[1]] if match_density is not None else []
        if not np.isfinite(probe).all() or not all(math.isfinite(v) for v in values):
            raise ValueError("non-finite model parameters")
        return cls(
            probe=probe[:-1].copy(),
            probe_bias=float(probe[-1]),
            reference=reference,
            reference_labels=labels,
            combine=tuple(combine[:-1]),
            combine_bias=combine[-1],
            cutoffs=cutoffs,
            neighbours=int(params.get("neighbours", 10)),
            language_cutoffs=by_language,
            match_coverage=match_coverage,
            feature_bounds=bounds,
            match_agreement=agreement,
            density=density,
            match_density=match_density,
        )


def _parse_density_gate(raw: Any, dimension: int) -> tuple[DensityModel, float] | None:
    """A stored density gate ({"limit": number, "gaussians": in-domain Gaussians}), None if absent, or ValueError."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("limit"), int | float):
        raise ValueError("match_density needs a numeric limit and its in-domain gaussians")
    gaussians = DensityModel.from_json(raw.get("gaussians"), dimension)
    if gaussians.kind != "in":
        raise ValueError("match_density's gaussians must be of kind 'in' (distance to in-domain classes)")
    return gaussians, float(raw["limit"])


def _parse_bounds(raw: Any, features: int) -> tuple[tuple[float, float], ...] | None:
    """Stored feature bounds (a finite [low, high] per weighed feature), None if absent, or ValueError."""
    if raw is None:
        return None
    problem = f"feature_bounds needs one [low, high] pair for each of the {features} weighed features"
    bounds = tuple(_stored_pair(pair, problem) for pair in raw)
    if len(bounds) != features:
        raise ValueError(problem)
    if not all(math.isfinite(v) for pair in bounds for v in pair) or any(low > high for low, high in bounds):
        raise ValueError("feature_bounds must be finite with low <= high")
    return bounds


def _stored_pair(raw: Any, problem: str) -> tuple[float, float]:
    """A stored pair of numbers (a JSON list of two), or ValueError(``problem``) for anything else of another length."""
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise ValueError(problem)
    return float(raw[0]), float(raw[1])


def _parse_cutoffs(raw: Any) -> dict[str, tuple[float, float]]:
    """Stored cut-offs (rule -> [no_match below, match from]) for every rule, or ValueError."""
    cutoffs = {
        str(rule): _stored_pair(pair, f"cut-offs of {rule!r} need a pair [no_match below, match from]")
        for rule, pair in dict(raw).items()
    }
    if set(cutoffs) != set(RULES):
        raise ValueError(f"cut-offs for {sorted(cutoffs)}, expected {sorted(RULES)}")
    return cutoffs


# --- training with held-out folds ---------------------------------------------------------------


@dataclass
class TrainingReport:
    """Figures measured on held-out folds (whole categories left out), never on what a model was fitted on."""

    questions: int = 0
    in_domain: int = 0
    off_topic: int = 0
    folds: int = 0
    repeats: int = 1  # rounds of cross-fitting over different fold assignments
    answerable_holdout: str = "question"  # how in-domain questions are held out (ANSWERABLE_HOLDOUTS)
    off_topic_match: float | None = None  # the bound on held-out off-topic questions at match, if any
    off_topic_unit: str = "question"  # what that bound counts: questions or whole categories (OFF_TOPIC_UNITS)
    coverage_gate: float | None = None  # the share of answerable questions a coverage gate may keep from match
    no_match_holdout: str | None = None  # the second hold-out the no_match cut-off also answers to, if any
    language_cutoffs: list[str] = field(default_factory=list)  # the cut-offs calibrated per language, if any
    density: str | None = None  # the density feature's kind, if the combination weighs it
    density_gate: float | None = None  # the share of answerable questions the density gate may keep from match
    # per rule: {"answerable_no_match", "answerable_weak", "off_topic_no_match", "off_topic_match"}
    held_out: dict[str, dict[str, float]] = field(default_factory=dict)
    # the combined rule's rates by hold-out scheme ("spread", "whole_theme") and subset ("all", "da", "en", "short")
    held_out_detail: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for the manifest and `lessons calibrate`."""
        return {
            "questions": self.questions,
            "in_domain": self.in_domain,
            "off_topic": self.off_topic,
            "folds": self.folds,
            "repeats": self.repeats,
            "answerable_holdout": self.answerable_holdout,
            "off_topic_match": self.off_topic_match,
            "off_topic_unit": self.off_topic_unit,
            "coverage_gate": self.coverage_gate,
            "no_match_holdout": self.no_match_holdout,
            "language_cutoffs": self.language_cutoffs,
            "density": self.density,
            "density_gate": self.density_gate,
            "held_out": self.held_out,
            "held_out_detail": self.held_out_detail,
        }


# How held-out folds hold answerable (in-domain) questions out: "question" spreads each in-domain
# category's questions over the folds at random (the fifth round's default: at deployment a new
# answerable question is about the corpus' fixed domain, its neighbours in training); "category"
# holds whole in-domain categories out (the first four rounds: pessimistic for answerable questions).
# Off-topic questions are always held out by whole category (a new subject arrives unseen).
ANSWERABLE_HOLDOUTS = ("question", "category")


def _fold_of(
    questions: Sequence[TrainingQuestion], folds: int, seed: int, answerable: str = "question"
) -> npt.NDArray[np.int64]:
    """Each written question's fold; -1: always trained on.

    Off-topic questions go by whole category; in-domain ones by whole category too
    (``answerable="category"``) or, by default, each category's questions spread over the
    folds at random, so every fold holds some of every in-domain category (stratified).
    """
    if answerable not in ANSWERABLE_HOLDOUTS:
        raise ValueError(f"answerable hold-out {answerable!r}, expected one of {ANSWERABLE_HOLDOUTS}")
    rng = np.random.default_rng(seed)
    out = np.full(len(questions), -1, dtype=np.int64)
    for prefix in ("in:", "off:"):
        groups = sorted({q.group for q in questions if q.group.startswith(prefix)})
        if prefix == "in:" and answerable == "question":
            start = int(rng.integers(folds))
            for group in groups:
                members = [i for i, q in enumerate(questions) if q.group == group]
                for rank, j in enumerate(rng.permutation(len(members))):
                    out[members[int(j)]] = (start + rank) % folds
                start = (start + len(members)) % folds
            continue
        order = rng.permutation(len(groups))
        assignment = {groups[int(j)]: i % folds for i, j in enumerate(order)}
        for i, q in enumerate(questions):
            if q.group in assignment:
                out[i] = assignment[q.group]
    return out


def _standardised_fit(features: FloatArray, labels: FloatArray, l2: float) -> tuple[FloatArray, float]:
    """Fit on standardised features, return weights and bias for the raw features."""
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    std[std < 1e-9] = 1.0
    w, b = fit_logistic((features - mean) / std, labels, l2=l2)
    raw = w / std
    return raw, float(b - (raw * mean).sum())


def _feature_bounds(features: FloatArray, share: float) -> tuple[tuple[float, float], ...]:
    """Each column's (``share``, ``1 - share``) quantiles: the range a feature is clipped to."""
    low = np.quantile(features, share, axis=0)
    high = np.quantile(features, 1 - share, axis=0)
    return tuple((float(a), float(b)) for a, b in zip(low, high, strict=True))


def _clipped(features: FloatArray, bounds: Sequence[tuple[float, float]]) -> FloatArray:
    """The features with each column clipped to its bounds."""
    low, high = np.array(bounds, dtype=np.float64).T
    out: FloatArray = np.clip(features, low, high)
    return out


def off_topic_match_cutoff(scores: Sequence[float] | FloatArray, beta: float) -> float:
    """The score from which at most ``beta`` of new exchangeable off-topic scores reach ``match`` (split-conformal).

    The mirror of :func:`conformal_cutoff` on the high side: with n held-out off-topic scores
    sorted descending, just above the k-th largest, k = ⌊β(n+1)⌋, so that a new score reaches
    it (ranks among the k highest of n + 1) with probability at most β. With too few scores
    for that (k = 0), nothing is bounded (−inf).
    """
    ordered = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    k = math.floor(beta * (len(ordered) + 1))
    if k < 1:
        return -math.inf
    return float(np.nextafter(ordered[k - 1], math.inf))


def _cutoffs(
    answerable: FloatArray,
    false_no_match: float,
    false_weak: float,
    *,
    off_topic: FloatArray | None = None,
    off_topic_match: float | None = None,
    whole_categories: FloatArray | None = None,
) -> tuple[float, float]:
    """(no_match below, match from): conformal quantiles of held-out answerable scores.

    With ``off_topic_match`` the match cut-off is also at least the score that at most that
    share of held-out off-topic questions reach; with ``whole_categories`` (the held-out
    scores of answerable questions whose whole category was held out) the no_match cut-off
    is also at most their conformal quantile.
    """
    no_below = conformal_cutoff(answerable, false_no_match)
    if whole_categories is not None and len(whole_categories):
        no_below = min(no_below, conformal_cutoff(whole_categories, false_no_match))
    match_from = conformal_cutoff(answerable, false_weak)
    if off_topic_match is not None and off_topic is not None and len(off_topic):
        match_from = max(match_from, off_topic_match_cutoff(off_topic, off_topic_match))
    return no_below, max(no_below, match_from)


def _held_out_scores(
    x: Vectors,
    y: FloatArray,
    extra: FloatArray,
    fold: npt.NDArray[np.int64],
    *,
    folds: int,
    l2: float,
    neighbours: int,
    clip: float | None = None,
    density: tuple[str, npt.NDArray[np.int64]] | None = None,
    gate_classes: npt.NDArray[np.int64] | None = None,
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """One round of cross-fitting: each fold's features and scores from models fitted without it.

    Returns the stacked features (probe logit, kNN margin, then the question's own columns of
    ``extra``: lexical, coverage, subject, and with ``density`` (its kind and each question's class)
    the density feature from Gaussians fitted on the fold's training part only) and each rule's
    held-out score (with ``gate_classes``, each question's in-domain classes, also ``distance``: its least
    distance to an in-domain class under Gaussians fitted without its fold, for the density gate); the
    combination's own scores are nested (fitted on the other folds' held-out features), on features
    clipped to the held-out features' ``clip`` and ``1 - clip`` quantiles when ``clip`` is given (the
    returned features are not).
    """
    held = fold >= 0
    labels = y.astype(np.int8)
    probe = np.full(len(y), np.nan)
    knn = np.full(len(y), np.nan)
    dense = np.full(len(y), np.nan)
    distance = np.full(len(y), np.nan)
    for f in range(folds):
        test = fold == f
        if not test.any():
            continue
        train = ~test
        w, b = fit_logistic(x[train], y[train], l2=l2)
        probe[test] = x[test].astype(np.float64) @ w + b
        knn[test] = _knn_margin(x[train], labels[train], x[test], neighbours)
        if density is not None:
            kind, classes = density
            fitted = fit_density(x[train], classes[train], y[train] == 1, kind)
            dense[test] = fitted.values(x[test])
        if gate_classes is not None:
            distance[test] = fit_density(x[train], gate_classes[train], y[train] == 1, "in").values(x[test])
    columns = [probe, knn, extra] + ([dense] if density is not None else [])
    features = np.column_stack(columns)
    weighed = features if clip is None else _clipped(features, _feature_bounds(features[held], clip))
    combined = np.full(len(y), np.nan)
    for f in range(folds):
        test = fold == f
        if not test.any():
            continue
        train = held & ~test
        w2, b2 = _standardised_fit(weighed[train], y[train], 1e-3)
        combined[test] = weighed[test] @ w2 + b2
    scores = {"probe": probe, "knn": knn, "combined": combined}
    if gate_classes is not None:
        scores["distance"] = distance
    return features, scores


# What the off-topic bound on the match cut-off counts (``train_model(off_topic_unit=...)``): held-out
# off-topic questions ("question": at most that share of them reach match), or held-out off-topic
# categories ("category": at most that share of the categories have any question at match, judged by
# each category's highest score; an unseen subject arrives as a whole category).
OFF_TOPIC_UNITS = ("question", "category")
# The cut-offs that may be calibrated per language (``train_model(language_cutoffs=...)``).
CUTOFF_KINDS = ("no_match", "match")
# The in-domain categories of very short questions ("GDPR?", a lone project name), reported apart.
SHORT_GROUPS = ("in:short_queries", "in:spent_short")
RATE_NAMES = ("answerable_no_match", "answerable_weak", "off_topic_no_match", "off_topic_match")

Judged = tuple[npt.NDArray[np.int64], dict[str, FloatArray]]  # one round: each question's fold, each rule's scores


@dataclass(frozen=True)
class _Calibration:
    """What the cut-offs are set from: the held-out rounds, which questions count, and the rates asked for."""

    results: Sequence[Judged]  # the main cross-fitting
    second: Sequence[Judged]  # the whole-category cross-fitting for the no_match cut-off (may be empty)
    calib_in: npt.NDArray[np.bool_]
    calib_off: npt.NDArray[np.bool_]
    language: npt.NDArray[np.str_]  # each question's language for per-language cut-offs ("" none)
    per_language: tuple[str, ...]  # which of CUTOFF_KINDS are calibrated per language
    false_no_match: float
    false_weak: float
    off_topic_match: float | None
    # each off-topic question's category (an index; -1 for the rest), and whether the off-topic bound
    # counts questions or categories (OFF_TOPIC_UNITS)
    off_category: npt.NDArray[np.int64] | None = None
    off_topic_unit: str = "question"
    # each question's coverage, and the share of answerable questions the coverage gate may keep from match
    coverage: FloatArray | None = None
    coverage_gate: float | None = None
    # the share of answerable questions the agreement gate may keep from match (None: no gate)
    match_agreement: float | None = None
    # the share of answerable questions the density gate may keep from match (None: no gate)
    density_gate: float | None = None

    def distance_limit(self, keep: npt.NDArray[np.bool_]) -> float | None:
        """The density gate: the conformal high quantile of the answerable held-out in-domain distances in ``keep``."""
        if self.density_gate is None:
            return None
        mask = self.calib_in & keep
        distances = np.concatenate([scores["distance"][mask] for _, scores in self.results])
        return -conformal_cutoff(-distances, self.density_gate)

    def agreement(self, keep: npt.NDArray[np.bool_]) -> tuple[float, float] | None:
        """The agreement gate for match: the conformal low quantiles of the answerable held-out probe and kNN scores."""
        if self.match_agreement is None:
            return None
        mask = self.calib_in & keep
        probe = np.concatenate([scores["probe"][mask] for _, scores in self.results])
        knn = np.concatenate([scores["knn"][mask] for _, scores in self.results])
        return conformal_cutoff(probe, self.match_agreement), conformal_cutoff(knn, self.match_agreement)

    def gate(self, keep: npt.NDArray[np.bool_]) -> float | None:
        """The coverage gate for match: the conformal low quantile of the answerable questions' coverage in ``keep``."""
        if self.coverage_gate is None or self.coverage is None:
            return None
        return conformal_cutoff(self.coverage[self.calib_in & keep], self.coverage_gate)

    def _off_topic(self, scores: FloatArray, keep: npt.NDArray[np.bool_]) -> FloatArray:
        """One round's held-out off-topic scores the match bound counts: each question's, or each category's highest."""
        mask = self.calib_off & keep
        if self.off_topic_unit == "question" or self.off_category is None:
            return scores[mask]
        categories = self.off_category[mask]
        if not len(categories):
            return np.zeros(0)
        highest = np.full(int(self.off_category.max()) + 1, -np.inf)
        np.maximum.at(highest, categories, scores[mask])
        out: FloatArray = highest[np.isfinite(highest)]
        return out

    def pair(self, rule: str, keep: npt.NDArray[np.bool_]) -> tuple[float, float]:
        """(no_match below, match from) from the held-out scores of the questions in ``keep``."""
        pooled_in = np.concatenate([scores[rule][self.calib_in & keep] for _, scores in self.results])
        pooled_off = np.concatenate([self._off_topic(scores[rule], keep) for _, scores in self.results])
        whole = (
            np.concatenate([scores[rule][self.calib_in & keep] for _, scores in self.second]) if self.second else None
        )
        return _cutoffs(
            pooled_in,
            self.false_no_match,
            self.false_weak,
            off_topic=pooled_off,
            off_topic_match=self.off_topic_match,
            whole_categories=whole,
        )

    def languages(self) -> list[str]:
        """The languages that get their own cut-offs (those of the calibrating answerable questions)."""
        if not self.per_language:
            return []
        return sorted({str(lang) for lang in self.language[self.calib_in]} - {""})

    def cutoffs(
        self, rule: str, keep: npt.NDArray[np.bool_]
    ) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
        """The pooled cut-offs and, per language, those of its own questions (for the kinds asked for)."""
        pooled = self.pair(rule, keep)
        own: dict[str, tuple[float, float]] = {}
        for language in self.languages():
            mine = self.pair(rule, keep & (self.language == language))
            no_below = mine[0] if "no_match" in self.per_language else pooled[0]
            match_from = mine[1] if "match" in self.per_language else pooled[1]
            own[language] = (no_below, max(no_below, match_from))
        return pooled, own

    def states(self, rule: str, judged: Sequence[Judged]) -> list[npt.NDArray[np.str_]]:
        """Each judged round's held-out states ("no", "weak", "match"; "" not held out).

        Each fold is judged under cut-offs from the other questions' held-out scores (of every
        round and both hold-outs), so no state is judged by cut-offs its own score helped set.
        """
        out = []
        for fold, scores in judged:
            values = scores[rule]
            states = np.full(len(values), "", dtype="<U5")
            for f in range(int(fold.max()) + 1):
                test = fold == f
                if not test.any():
                    continue
                pooled, own = self.cutoffs(rule, ~test)
                no_below = np.full(len(values), pooled[0])
                match_from = np.full(len(values), pooled[1])
                for language, (low, high) in own.items():
                    mine = self.language == language
                    no_below[mine], match_from[mine] = low, high
                states[test] = np.where(
                    values[test] < no_below[test], "no", np.where(values[test] < match_from[test], "weak", "match")
                )
                gate = self.gate(~test) if rule == "combined" else None
                if gate is not None and self.coverage is not None:
                    states[test & (states == "match") & (self.coverage < gate)] = "weak"
                agree = self.agreement(~test) if rule == "combined" else None
                if agree is not None:
                    short = (scores["probe"] < agree[0]) | (scores["knn"] < agree[1])
                    states[test & (states == "match") & short] = "weak"
                limit = self.distance_limit(~test) if rule == "combined" else None
                if limit is not None:
                    states[test & (states == "match") & (scores["distance"] > limit)] = "weak"
            out.append(states)
        return out


def held_out_rates(
    states: Sequence[npt.NDArray[np.str_]], answerable: npt.NDArray[np.bool_], off_topic: npt.NDArray[np.bool_]
) -> dict[str, float]:
    """Rates of held-out states (answerable no_match, weak; off-topic no_match, match), mean over the rounds.

    A rate whose questions are absent (no off-topic question among very short ones) is left out.
    """
    out: dict[str, float] = {}
    for name, mask, state in zip(
        RATE_NAMES, (answerable, answerable, off_topic, off_topic), ("no", "weak", "no", "match"), strict=True
    ):
        if mask.any():
            out[name] = round(float(np.mean([np.mean(s[mask] == state) for s in states])), 4)
    return out


def _held_out_detail(
    calibration: _Calibration,
    questions: Sequence[TrainingQuestion],
    schemes: Iterable[tuple[str | None, Sequence[Judged]]],
) -> dict[str, dict[str, dict[str, float]]]:
    """The answering rule's held-out rates per scheme and subset: all, per written language, very short questions.

    ``whole_theme`` judges the whole-category folds (a theme nobody wrote a question about),
    ``spread`` the folds that spread each in-domain category.
    """
    written = np.array([q.language for q in questions])
    subsets = {
        "all": np.ones(len(questions), dtype=bool),
        "da": written == "da",
        "en": written == "en",
        "short": np.array([q.group in SHORT_GROUPS for q in questions]),
    }
    names = {"question": "spread", "category": "whole_theme"}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for holdout, judged in schemes:
        if holdout is None or not judged:
            continue
        states = calibration.states("combined", judged)
        out[names[holdout]] = {
            name: held_out_rates(states, calibration.calib_in & mask, calibration.calib_off & mask)
            for name, mask in subsets.items()
        }
    return out


def _check_training_inputs(
    x: Vectors,
    questions: Sequence[TrainingQuestion],
    lexical: Sequence[float],
    coverage: Sequence[float] | None,
    subject: Sequence[float] | None,
    *,
    repeats: int,
    no_match_holdout: str | None,
    language_cutoffs: Sequence[str],
    languages: Sequence[str] | None,
    off_topic_unit: str = "question",
    coverage_gate: float | None = None,
    feature_clip: float | None = None,
    match_agreement: float | None = None,
    density: str | None = None,
    density_gate: float | None = None,
) -> None:
    """ValueError naming what does not fit: one vector, score and language per question, known options."""
    if x.ndim != 2 or len(x) != len(questions) or len(lexical) != len(questions):
        raise ValueError("one vector and one lexical score per training question")
    if coverage is not None and len(coverage) != len(questions):
        raise ValueError("one coverage score per training question")
    if subject is not None and (coverage is None or len(subject) != len(questions)):
        raise ValueError("one subject score per training question, and coverage with it")
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    if no_match_holdout not in (None, *ANSWERABLE_HOLDOUTS):
        raise ValueError(f"no_match hold-out {no_match_holdout!r}, expected None or one of {ANSWERABLE_HOLDOUTS}")
    if not set(language_cutoffs) <= set(CUTOFF_KINDS):
        raise ValueError(f"language cut-offs {sorted(language_cutoffs)}, expected some of {CUTOFF_KINDS}")
    if languages is not None and len(languages) != len(questions):
        raise ValueError("one language per training question")
    if off_topic_unit not in OFF_TOPIC_UNITS:
        raise ValueError(f"off-topic unit {off_topic_unit!r}, expected one of {OFF_TOPIC_UNITS}")
    if coverage_gate is not None and (coverage is None or not 0 < coverage_gate < 1):
        raise ValueError("a coverage gate needs coverage scores and a share between 0 and 1")
    if feature_clip is not None and not 0 <= feature_clip < 0.5:
        raise ValueError("feature_clip must be a share from 0 to under a half")
    _check_share("match_agreement", match_agreement)
    if density is not None and (density not in DENSITY_KINDS or subject is None):
        raise ValueError(f"density must be one of {DENSITY_KINDS}, and needs the subject (and coverage) scores")
    _check_share("density_gate", density_gate)


def _check_share(name: str, share: float | None) -> None:
    """ValueError unless an optional share is off (None) or strictly between 0 and 1."""
    if share is not None and not 0 < share < 1:
        raise ValueError(f"{name} must be a share between 0 and 1")


def _category_index(questions: Sequence[TrainingQuestion], mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Each question in ``mask``'s category as an index (in order of first appearance); -1 for the rest."""
    index: dict[str, int] = {}
    out = np.full(len(questions), -1, dtype=np.int64)
    for i in np.flatnonzero(mask):
        out[i] = index.setdefault(questions[int(i)].group, len(index))
    return out


def train_model(
    vectors: Vectors,
    questions: Sequence[TrainingQuestion],
    lexical: Sequence[float],
    coverage: Sequence[float] | None = None,
    subject: Sequence[float] | None = None,
    *,
    folds: int = 10,
    repeats: int = 3,
    l2: float = 0.01,
    neighbours: int = 10,
    false_no_match: float = 0.02,
    false_weak: float = 0.10,
    off_topic_match: float | None = 0.02,
    off_topic_unit: str = "question",
    coverage_gate: float | None = None,
    feature_clip: float | None = None,
    match_agreement: float | None = None,
    density: str | None = None,
    density_gate: float | None = None,
    answerable_holdout: str = "question",
    no_match_holdout: str | None = None,
    language_cutoffs: Sequence[str] = (),
    languages: Sequence[str] | None = None,
    seed: int = 0,
) -> tuple[NoMatchModel, TrainingReport]:
    """Fit the probe and the combination, calibrate the cut-offs on held-out folds, and measure them.

    ``vectors`` are the questions' vectors (query prompt), ``lexical`` their own-word BM25
    scores against the corpus, ``coverage`` the share of their subject words in the passages
    they retrieve, ``subject`` their subject similarity (None: a model without that feature,
    as before it existed; subject needs coverage, since the features are a prefix of
    :data:`FEATURES`).
    Every written question is scored by models fitted without it (cross-fitting):
    off-topic questions without their whole category, in-domain ones without their fold's
    share of each in-domain category (``answerable_holdout="question"``) or without their
    whole category (``"category"``, the scheme before the fifth round), ``repeats`` times over
    different random fold assignments: one assignment makes the low quantiles (a handful of
    scores) depend on which questions happened to share a fold, so the cut-offs are
    conformal quantiles of the pooled held-out in-domain scores of all rounds; with
    ``off_topic_match`` the match cut-off is also at least the score that at most that share
    of the pooled held-out off-topic scores reach (``off_topic_unit="category"``: at most that share
    of the held-out off-topic categories have any question that reaches it); with ``coverage_gate`` the
    combined rule's match also needs a coverage of at least the conformal quantile that keeps at most
    that share of answerable questions from it. A second cross-fitting (whole in-domain
    categories held out, ``repeats`` rounds) scores the answerable questions once more; with
    ``no_match_holdout="category"`` (the fifth and sixth rounds' default) the no_match cut-off is
    the lower of the two conformal quantiles, so the 2 % bound also holds for a theme nobody wrote
    a question about and for very short questions as a kind; by default (None, since the seventh
    round) it is the spread quantile alone, which left fewer off-topic questions `weak` on
    leave-one-spent-blind-set-out at the same answerable no_match rate (docs/retrieval.md,
    "Seventh round"), and the second cross-fitting only measures. The report gives each rule's
    rates on held-out questions, averaged over the rounds, each fold under cut-offs that
    never saw its questions, also per language, for the very short questions, and judged on
    the whole-category folds.

    ``language_cutoffs`` names the cut-offs (of :data:`CUTOFF_KINDS`) that are calibrated on
    each language's questions alone (Mondrian conformal): the model then also holds cut-offs
    per language, used for a question detected as that language. ``languages`` gives each
    question's language as the search detects it (default: the language it was written in).

    ``feature_clip`` (a share, say 0.005) bounds each weighed feature to the held-out features'
    ``feature_clip`` and ``1 - feature_clip`` quantiles before the combination (in the cross-fitting
    and in the model), so one feature extrapolating far past its training range cannot carry a question
    alone. ``match_agreement`` (a share, say 0.02) makes the combined rule's match also need the probe
    logit and the kNN margin each at least the answerable held-out questions' conformal quantile at that
    share; a question short of either is held under the match cut-off (weak). Both are off by default.

    ``density`` (one of :data:`DENSITY_KINDS`, off by default) adds a sixth feature: the least squared
    Mahalanobis distance of the question to a class of written in-domain questions (a category in one
    language), under one Ledoit–Wolf covariance shared by the classes (:func:`fit_density`); "relative"
    subtracts the least distance to an off-topic class. In the cross-fitting each fold's value comes
    from Gaussians fitted on the other folds' questions only; the model stores those fitted on all.

    ``density_gate`` (a share, say 0.02; off by default) makes the combined rule's match also need the
    question's least distance to an in-domain class (the "in" kind, whether or not the combination weighs
    it) at most the answerable held-out questions' conformal ``1 - density_gate`` quantile, each held-out
    distance from Gaussians fitted without its fold; a question farther out is held under the match
    cut-off (weak). The model stores the Gaussians fitted on all and that limit.
    """
    x = np.asarray(vectors, dtype=np.float32)
    _check_training_inputs(
        x,
        questions,
        lexical,
        coverage,
        subject,
        repeats=repeats,
        no_match_holdout=no_match_holdout,
        language_cutoffs=language_cutoffs,
        languages=languages,
        off_topic_unit=off_topic_unit,
        coverage_gate=coverage_gate,
        feature_clip=feature_clip,
        match_agreement=match_agreement,
        density=density,
        density_gate=density_gate,
    )
    y = np.array([1.0 if q.in_domain else 0.0 for q in questions])
    columns = [c for c in (lexical, coverage, subject) if c is not None]
    extra = np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])
    labels = y.astype(np.int8)
    rounds = [_fold_of(questions, folds, seed + r, answerable_holdout) for r in range(repeats)]
    held = rounds[0] >= 0  # the same questions are held out in every round (only their folds differ)
    calib_in = held & (y == 1)
    calib_off = held & (y == 0)
    if not calib_in.any() or not calib_off.any():
        raise ValueError("training needs written in-domain and off-topic questions")
    classes = None if density is None else _density_classes(questions, density)
    gate_classes = None if density_gate is None else _density_classes(questions, "in")
    fitting: dict[str, Any] = {
        "folds": folds,
        "l2": l2,
        "neighbours": neighbours,
        "clip": feature_clip,
        "density": None if density is None or classes is None else (density, classes),
        "gate_classes": gate_classes,
    }
    results = [_held_out_scores(x, y, extra, fold, **fitting) for fold in rounds]
    judged = [(fold, scores) for fold, (_, scores) in zip(rounds, results, strict=True)]
    # the second cross-fitting, by whole in-domain category: with no_match_holdout it also sets the no_match
    # cut-off (only its answerable scores count); the report judges the whole-theme folds on it either way
    whole_holdout = no_match_holdout or ("category" if answerable_holdout != "category" else None)
    second: list[Judged] = []
    if whole_holdout is not None and whole_holdout != answerable_holdout:
        for r in range(repeats):
            fold = _fold_of(questions, folds, seed + r, whole_holdout)
            second.append((fold, _held_out_scores(x, y, extra, fold, **fitting)[1]))
    language = np.array(
        [str(lang) for lang in (languages if languages is not None else [q.language for q in questions])]
    )
    calibration = _Calibration(
        results=judged,
        second=second if no_match_holdout is not None else [],
        calib_in=calib_in,
        calib_off=calib_off,
        language=language,
        per_language=tuple(k for k in CUTOFF_KINDS if k in language_cutoffs),
        false_no_match=false_no_match,
        false_weak=false_weak,
        off_topic_match=off_topic_match,
        off_category=_category_index(questions, calib_off),
        off_topic_unit=off_topic_unit,
        coverage=None if coverage is None else np.asarray(coverage, dtype=np.float64),
        coverage_gate=coverage_gate,
        match_agreement=match_agreement,
        density_gate=density_gate,
    )

    cutoffs: dict[str, tuple[float, float]] = {}
    by_language: dict[str, dict[str, tuple[float, float]]] = {}
    report = TrainingReport(
        questions=len(questions),
        in_domain=int(y.sum()),
        off_topic=int(len(y) - y.sum()),
        folds=folds,
        repeats=repeats,
        answerable_holdout=answerable_holdout,
        off_topic_match=off_topic_match,
        off_topic_unit=off_topic_unit,
        coverage_gate=coverage_gate,
        no_match_holdout=no_match_holdout if second and no_match_holdout is not None else None,
        language_cutoffs=list(calibration.per_language),
        density=density,
        density_gate=density_gate,
    )
    everything = np.ones(len(y), dtype=bool)
    for rule in RULES:
        cutoffs[rule], own = calibration.cutoffs(rule, everything)
        for lang, pair in own.items():
            by_language.setdefault(lang, {})[rule] = pair
        report.held_out[rule] = held_out_rates(calibration.states(rule, judged), calib_in, calib_off)
    report.held_out_detail = _held_out_detail(
        calibration, questions, ((answerable_holdout, judged), (whole_holdout, second))
    )
    stacked = np.concatenate([features[held] for features, _ in results])
    bounds = None if feature_clip is None else _feature_bounds(stacked, feature_clip)
    if bounds is not None:
        stacked = _clipped(stacked, bounds)
    combine_w, combine_b = _standardised_fit(stacked, np.tile(y[held], repeats), 1e-3)
    probe_w, probe_b = fit_logistic(x, y, l2=l2)
    model = NoMatchModel(
        probe=probe_w,
        probe_bias=probe_b,
        reference=np.ascontiguousarray(x),
        reference_labels=labels,
        combine=tuple(float(w) for w in combine_w),
        combine_bias=combine_b,
        cutoffs=cutoffs,
        neighbours=neighbours,
        language_cutoffs=by_language,
        match_coverage=calibration.gate(everything),
        feature_bounds=bounds,
        match_agreement=calibration.agreement(everything),
        density=None if density is None or classes is None else fit_density(x, classes, y == 1, density),
        match_density=_density_gate(x, y, gate_classes, calibration.distance_limit(everything)),
    )
    return model, report


def _density_gate(
    x: Vectors, y: FloatArray, classes: npt.NDArray[np.int64] | None, limit: float | None
) -> tuple[DensityModel, float] | None:
    """The model's density gate: in-domain Gaussians fitted on every question, and the calibrated limit."""
    if classes is None or limit is None:
        return None
    return fit_density(x, classes, y == 1, "in"), limit


def lexical_scores(texts: Sequence[str], score: Callable[[str], float]) -> list[float]:
    """Own-word lexical scores of training texts (a helper for the build)."""
    return [float(score(text)) for text in texts]
