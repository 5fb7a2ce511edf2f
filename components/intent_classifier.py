"""The intent classifier: word and character n-grams of the text, weighted by
tf-idf, and a logistic regression, all in one component.

Why one component that reads the text itself (instead of Rasa's featurizers):
patients put several questions, or a story and then a question, in one
message. To answer each question the classifier must score parts of a message
as well as the whole, and only a component that featurizes text itself can do
that. It writes the parts it understood to the message as `questions`, which
the answering action reads (`action_answer_topic`).

The fitted model is saved as JSON vocabularies and numpy arrays, without
pickle, so loading a model runs no code from it.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

import jieba
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from content_model import load_languages

jieba.setLogLevel(logging.WARNING)  # it logs its dictionary loading at INFO on every start

ARRAYS = "classifier.npz"
VOCABULARIES = "vocabularies.json"
QUESTIONS = "questions"  # the message key the answering action reads

def normalise(text: Text) -> Text:
    # Numbers differ between patients ("I'm 52"), their presence does not.
    return re.sub(r"\d+", "0", text.lower())


# Chinese runs, and runs of other letters and digits: "钙化灶是malignant的" is 钙化灶是 / malignant / 的.
_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[^\W\u4e00-\u9fff]+")
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def words_of(text: Text) -> List[Text]:
    """Words as the word n-grams see them: Latin-script words, and Chinese runs
    cut into words by jieba's dictionary (Chinese is written without spaces),
    each followed by its characters: a Chinese character carries meaning of its
    own (癌, 疼, 药), which unseen compounds and typos still share."""
    return [word for token in _TOKEN.findall(text)
            for word in (_with_characters(jieba.lcut(token)) if _HAN.fullmatch(token) else [token])]


def _with_characters(words: List[Text]) -> List[Text]:
    return [piece for word in words for piece in ([word, *word] if len(word) > 1 else [word])]


def han_runs(text: Text) -> List[Text]:
    """Without segmentation: each Chinese run as one token (the character n-grams do the rest)."""
    return _TOKEN.findall(text)


def _vectorizers(config: Dict[Text, Any]) -> Tuple[TfidfVectorizer, TfidfVectorizer]:
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=False, token_pattern=None,
                            tokenizer=words_of if config["segment_chinese"] else han_runs, min_df=1)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                            min_df=config["char_min_df"])
    return words, chars


def fit(texts: List[Text], labels: List[Text], config: Dict[Text, Any]) -> Tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression]:
    """The fitted vectorizers and logistic regression for these examples (bench/compare_languages.py uses it too)."""
    normalised = [normalise(text) for text in texts]
    words, chars = _vectorizers(config)
    features = scipy.sparse.hstack([words.fit_transform(normalised), chars.fit_transform(normalised)]).tocsr()
    classifier = LogisticRegression(C=config["C"], max_iter=config["max_iter"],
                                    random_state=config["random_state"], class_weight="balanced")
    classifier.fit(features, labels)
    return words, chars, classifier


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TextIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 10.0,
            "max_iter": 2000,
            "random_state": 42,
            "char_min_df": 2,
            # Chinese word segmentation (jieba) for the word n-grams; measured in README.
            "segment_chinese": True,
            # A part of a message counts as its own question at this confidence.
            "question_threshold": 0.5,
            "max_questions": 3,
            # Intents that a part may add as a question (the topic intents).
            "question_intent_prefix": "ask_",
        }

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[Tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression]] = None) -> None:
        self.config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self._weights: Optional[np.ndarray] = None
        # Where a message splits into questions, per language (content/languages.yml).
        self.languages = load_languages()

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TextIntentClassifier:
        return cls(config, model_storage, resource)

    def _features(self, texts: List[Text]) -> scipy.sparse.csr_matrix:
        words, chars, _ = self.model
        normalised = [normalise(text) for text in texts]
        return scipy.sparse.hstack([words.transform(normalised), chars.transform(normalised)]).tocsr()

    def _probabilities(self, texts: List[Text]) -> np.ndarray:
        """The multinomial model's probabilities, as predict_proba gives them, with
        the weights kept feature-major: sklearn copies them on every call otherwise."""
        if self._weights is None:
            self._weights = np.ascontiguousarray(self.model[2].coef_.T)
        scores = self._features(texts) @ self._weights + self.model[2].intercept_
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [example for example in training_data.intent_examples if example.get("text")]
        self.model = fit([example.get("text") for example in examples], [example.get("intent") for example in examples],
                         self.config)
        self._weights = None
        self.persist()
        return self._resource

    def persist(self) -> None:
        words, chars, classifier = self.model
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / ARRAYS, coef=classifier.coef_, intercept=classifier.intercept_,
                     classes=classifier.classes_.astype(str), word_idf=words.idf_, char_idf=chars.idf_)
            vocabularies = {"words": {k: int(v) for k, v in words.vocabulary_.items()},
                            "chars": {k: int(v) for k, v in chars.vocabulary_.items()}}
            (directory / VOCABULARIES).write_text(json.dumps(vocabularies), encoding="utf-8")

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> TextIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                vocabularies = json.loads((directory / VOCABULARIES).read_text(encoding="utf-8"))
                with np.load(directory / ARRAYS, allow_pickle=False) as saved:
                    arrays = {key: saved[key] for key in saved.files}
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)  # nothing was trained (no NLU data)
        words, chars = _vectorizers(config)
        for vectorizer, vocabulary, idf in ((words, vocabularies["words"], arrays["word_idf"]),
                                            (chars, vocabularies["chars"], arrays["char_idf"])):
            vectorizer.vocabulary = vocabulary
            vectorizer.idf_ = idf
        classifier = LogisticRegression()
        classifier.coef_, classifier.intercept_ = arrays["coef"], arrays["intercept"]
        classifier.classes_ = arrays["classes"]
        classifier.n_features_in_ = classifier.coef_.shape[1]
        return cls(config, model_storage, resource, (words, chars, classifier))

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        for message in messages:
            text = (message.get("text") or "").strip()
            if text:
                self._classify(message, text)
            else:
                # Nothing to read: no intent, so that the fallback (a polite "did you mean...") answers.
                message.set("intent", {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        return messages

    def _classify(self, message: Message, text: Text) -> None:
        classes = self.model[2].classes_
        parts = self.languages.parts(text)
        texts = [text] + (parts if len(parts) > 1 else [])
        probabilities = self._probabilities(texts)
        whole = probabilities[0]
        questions = self._questions(classes, probabilities[1:]) if len(parts) > 1 else []
        # A long message (a story, then the question) is often clearer in its parts:
        # the question it asks wins when the classifier is surer of it than of the whole.
        if questions:
            best = max(questions, key=lambda question: question["confidence"])
            if whole.max() < max(self.config["question_threshold"], best["confidence"]):
                whole = probabilities[1 + best["part"]]
        order = np.argsort(whole)[::-1][:10]
        ranking = [{"name": str(classes[i]), "confidence": float(whole[i])} for i in order]
        message.set("intent", ranking[0], add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
        message.set(QUESTIONS, [{"intent": q["intent"], "confidence": q["confidence"]} for q in questions],
                    add_to_output=True)

    def _questions(self, classes: np.ndarray, probabilities: np.ndarray) -> List[Dict[Text, Any]]:
        found: List[Dict[Text, Any]] = []
        for part, row in enumerate(probabilities):
            best = int(row.argmax())
            intent, confidence = str(classes[best]), float(row[best])
            if (confidence >= self.config["question_threshold"]
                    and intent.startswith(self.config["question_intent_prefix"])
                    and intent not in [question["intent"] for question in found]):
                found.append({"intent": intent, "confidence": confidence, "part": part})
        return found[: self.config["max_questions"]]
