from typing import Any, Dict, List, Optional, Text

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def make_tracker(
    text: Text = "",
    intent: Optional[Text] = None,
    slots: Optional[Dict[Text, Any]] = None,
    entities: Optional[List[Dict[Text, Any]]] = None,
    ranking: Optional[List[Dict[Text, Any]]] = None,
    earlier_intents: Optional[List[Text]] = None,
    active_loop: Optional[Text] = None,
    parsed: Optional[Dict[Text, Any]] = None,
    paused: bool = False,
) -> Tracker:
    """A real rasa_sdk Tracker as the Rasa server would send it to the action server."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.95},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.95}],
        **(parsed or {}),  # what the project's NLU steps add: questions, scope
    }
    events = [
        {"event": "user", "text": f"earlier {name}", "parse_data": {"intent": {"name": name}}}
        for name in earlier_intents or []
    ] + [{"event": "user", "text": text, "parse_data": latest}]
    return Tracker(
        sender_id="test-patient",
        slots=slots or {},
        latest_message=latest,
        events=events,
        paused=paused,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> Dict[Text, Any]:
    return {}
