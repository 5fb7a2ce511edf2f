"""An NLU step that tells which language a message is written in.

The language is chosen per message from what was written (content/languages.yml:
the script with the most units, or a request such as "English please" /
"请用中文"). A message too short to tell ("ok", "好") gives no language, so the
conversation keeps the one it has; on a first message the widget's `language`
setting, sent as message metadata, decides. The result is a `language` entity
that fills the `language` slot, which picks the answers' language (the
content files and the responses' variations in domain.yml).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.training_data.message import Message

from content_model import Languages, load_languages

LANGUAGE = "language"  # the entity and the slot


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent, EntityExtractorMixin):
    def __init__(self, languages: Languages) -> None:
        self.languages = languages

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageDetector:
        return cls(load_languages())

    def language(self, text: Text, metadata: Optional[Dict[Text, Any]]) -> Optional[Text]:
        chosen = self.languages.requested(text) or self.languages.detect(text)
        if chosen is None and isinstance(metadata, dict) and metadata.get(LANGUAGE) in self.languages.codes:
            chosen = metadata[LANGUAGE]
        return chosen

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get("text") or ""
            code = self.language(text, message.get("metadata"))
            if code:
                entity = {"entity": LANGUAGE, "value": code, "start": 0, "end": len(text), "extractor": self.__class__.__name__}
                message.set("entities", message.get("entities", []) + [entity], add_to_output=True)
        return messages
