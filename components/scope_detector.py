"""An NLU step that keeps near-scope questions out of the answers.

A question about a kidney stone, fatty liver or a medicine's dose shares many
words with the assistant's own questions, so a classifier alone often answers it
with liver-calcification content. When content/scope.yml says a message is
about another organ, another liver disease or a medicine (in any language
served), the intent becomes
`out_of_scope` and the message carries the kind, so the decline can say why.
Warning signs still win: the red-flag step runs after this one.
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

OUT_OF_SCOPE_INTENT = "out_of_scope"
SCOPE = "scope"  # the message key the declining action reads


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ScopeDetector(GraphComponent, IntentClassifier):
    def __init__(self, library: Library) -> None:
        self.library = library

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ScopeDetector:
        return cls(load_library())

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            kind = self.library.outside_scope(message.get("text") or "")
            if kind is None:
                continue
            declined = {"name": OUT_OF_SCOPE_INTENT, "confidence": 1.0}
            ranking = [entry for entry in message.get("intent_ranking", []) if entry.get("name") != OUT_OF_SCOPE_INTENT]
            message.set("intent", declined, add_to_output=True)
            message.set("intent_ranking", [declined] + ranking, add_to_output=True)
            message.set(SCOPE, kind.id, add_to_output=True)
            message.set("questions", [], add_to_output=True)
        return messages
