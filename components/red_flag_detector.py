"""An NLU step that makes warning signs win over whatever else was asked.

It runs after the intent classifier. When a message matches a warning sign in
content/red_flags.yml, the intent becomes `report_red_flag` (the classifier's
own guess stays in the ranking, so the question can be answered after the
warning). The signs are read when the server starts, so clinic staff change them
without retraining.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

from actions.content import CONTENT_DIR, RedFlags, load_red_flags

RED_FLAG_INTENT = "report_red_flag"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagDetector(GraphComponent, IntentClassifier):
    def __init__(self, red_flags: RedFlags) -> None:
        self.red_flags = red_flags

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        return cls(load_red_flags(CONTENT_DIR / "red_flags.yml"))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not self.red_flags.find(message.get("text") or ""):
                continue
            flagged = {"name": RED_FLAG_INTENT, "confidence": 1.0}
            ranking = [entry for entry in message.get("intent_ranking", []) if entry.get("name") != RED_FLAG_INTENT]
            message.set("intent", flagged, add_to_output=True)
            message.set("intent_ranking", [flagged] + ranking, add_to_output=True)
        return messages
