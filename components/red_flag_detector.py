"""An NLU step that makes warning signs win over whatever else was asked.

It runs after the intent classifier. When a message says the person has a
warning sign of content/<language>/red_flags.yml (in any language), the intent
becomes `report_red_flag` (the classifier's own guess stays in the ranking, so
the question can be answered after the warning). When it only uses a sign's
words ("no fever", "confused by my report"), or the classifier alone guessed a
warning without being sure, the next guess wins: a false alarm frightens people
and teaches them to ignore warnings. The signs are read when the server starts,
so clinic staff change them without retraining.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

from content_model import Library, load_library

RED_FLAG_INTENT = "report_red_flag"
FALLBACK_INTENT = "nlu_fallback"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagDetector(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"min_confidence": 0.5, "guess_min_confidence": 0.6}

    def __init__(self, library: Library, min_confidence: float, guess_min_confidence: float) -> None:
        self.library = library
        self.min_confidence = min_confidence
        self.guess_min_confidence = guess_min_confidence

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        return cls(load_library(), config["min_confidence"], config["guess_min_confidence"])

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            # Every language's signs, whatever the conversation's language.
            present, dismissed = self.library.assess_red_flags(message.get("text") or "")
            ranking = [entry for entry in message.get("intent_ranking", []) if entry.get("name") != RED_FLAG_INTENT]
            if present:
                flagged = {"name": RED_FLAG_INTENT, "confidence": 1.0}
                message.set("intent", flagged, add_to_output=True)
                message.set("intent_ranking", [flagged] + ranking, add_to_output=True)
            elif (message.get("intent") or {}).get("name") == RED_FLAG_INTENT and (
                    dismissed or message.get("intent")["confidence"] < self.guess_min_confidence):
                # A sign's words without the sign, or an unsure guess with no sign named: no alarm.
                sure = ranking and ranking[0]["confidence"] >= self.min_confidence
                message.set("intent", ranking[0] if sure else {"name": FALLBACK_INTENT, "confidence": self.min_confidence},
                            add_to_output=True)
                message.set("intent_ranking", ranking, add_to_output=True)
        return messages
