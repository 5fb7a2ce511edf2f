"""The custom actions: a few generic ones that serve answers from the curated content.

Each answer goes out as: the short answer (with feedback buttons), then a
source line with buttons for related questions and a custom payload (topic id
and seed sources) that channels and clinic systems can read.
"""
import datetime
import logging
import os
from typing import Any, Dict, List, Optional, Text

import aiohttp
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from content_model import Content, ContentError, Topic, load_library
from privacy.masking import install_log_masking, mask

logger = logging.getLogger(__name__)
# How likely the topic in play must be, as one of the two likeliest readings of a
# message the classifier found ambiguous, to be answered instead of "did you mean".
CONTEXT_FLOOR = 0.15
install_log_masking()

try:
    LIBRARY = load_library()
except ContentError as error:
    # Refuse to start: a broken entry must be fixed before patients see it.
    raise SystemExit(f"Refusing to start the action server, the curated content is broken: {error}")


def content_for(tracker: Tracker) -> Content:
    """The content in the conversation's language (the `language` slot, set from
    each message by components/language_detector.py)."""
    return LIBRARY.content(tracker.get_slot("language"))


def now() -> datetime.datetime:
    """The current time (tests fix it)."""
    return datetime.datetime.now(datetime.timezone.utc)


def latest_intent(tracker: Tracker) -> Optional[Text]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def send_sources(dispatcher: CollectingDispatcher, content: Content, topic: Topic, part: Text) -> None:
    related = [content.topics[topic_id] for topic_id in topic.related]
    dispatcher.utter_message(
        response="utter_source_line",
        cite=content.source_line(topic),
        buttons=[{"title": other.question, "payload": f"/{other.intents[0]}"} for other in related],
        json_message={"topic": topic.id, "part": part, "sources": topic.sources},
    )


def send_answer(dispatcher: CollectingDispatcher, content: Content, topic: Topic) -> List[Dict[Text, Any]]:
    dispatcher.utter_message(response="utter_answer", answer=topic.short_answer)
    send_sources(dispatcher, content, topic, part="short_answer")
    return [SlotSet("topic", topic.id)]


def send_explanation(dispatcher: CollectingDispatcher, content: Content, topic: Topic) -> None:
    dispatcher.utter_message(text=topic.explanation)
    dispatcher.utter_message(text=topic.what_you_can_do)
    send_sources(dispatcher, content, topic, part="explanation")


def send_answers(dispatcher: CollectingDispatcher, content: Content, topics: List[Topic]) -> List[Dict[Text, Any]]:
    """Each question of a message answered in the order asked; the last one stays in play."""
    events: List[Dict[Text, Any]] = []
    for topic in topics:
        events += send_answer(dispatcher, content, topic)
    return events[-1:]


def questions_asked(tracker: Tracker, intent: Optional[Text]) -> List[Text]:
    """The intents of the questions in the latest message, as the classifier
    split it (components/intent_classifier.py); one question: the intent itself."""
    questions = [question["intent"] for question in tracker.latest_message.get("questions") or []]
    # One question found in a part, and the whole message unsure (a warning with one question): that question.
    return questions if len(questions) > 1 or (questions and not intent) else [intent] if intent else []


def disclaimer_once(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
    """The disclaimer follows the first reply of a conversation, so that a
    warning sign in the first message is still the first thing said."""
    if tracker.get_slot("disclaimer_shown"):
        return []
    dispatcher.utter_message(response="utter_disclaimer")
    return [SlotSet("disclaimer_shown", True)]


def user_turns(tracker: Tracker) -> List[Dict[Text, Any]]:
    return [event for event in tracker.events if event.get("event") == "user"]


class ActionAnswerTopic(Action):
    """Answers a question with the short answer of its topic.

    The topic comes from the intent, unless the intent is a short follow-up
    ("and for how long?") that the current topic sends elsewhere.
    """

    def name(self) -> Text:
        return "action_answer_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        content = content_for(tracker)
        intent = latest_intent(tracker)
        current = content.topic(tracker.get_slot("topic"))
        text = tracker.latest_message.get("text") or ""
        if current and intent in current.follow_ups:
            target = content.topics[current.follow_ups[intent]]
            if target == current:
                # Asked again about the topic in play ("is it dangerous?" about the baby): say more, not the same.
                send_explanation(dispatcher, content, current)
                return disclaimer_once(dispatcher, tracker)
            topics = [target]
        else:
            topics = content.topics_for_questions(questions_asked(tracker, intent), text)
        if not topics:
            logger.warning("No topic for intent %s", intent)
            dispatcher.utter_message(response="utter_help")
            return disclaimer_once(dispatcher, tracker)
        return send_answers(dispatcher, content, topics) + disclaimer_once(dispatcher, tracker)


class ActionExplainTopic(Action):
    """"Tell me more" / "why?": the longer explanation of the topic in play.

    If the message names another topic ("tell me more about the parasites"),
    that topic is answered instead.
    """

    def name(self) -> Text:
        return "action_explain_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        content = content_for(tracker)
        current = content.topic(tracker.get_slot("topic"))
        named = content.named_topic(tracker.latest_message.get("text") or "")
        if named and named != current:
            return send_answer(dispatcher, content, named) + disclaimer_once(dispatcher, tracker)
        if current is None:
            dispatcher.utter_message(response="utter_ask_first")
            return disclaimer_once(dispatcher, tracker)
        send_explanation(dispatcher, content, current)
        return disclaimer_once(dispatcher, tracker)


class ActionGreet(Action):
    def name(self) -> Text:
        return "action_greet"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_greet")
        return disclaimer_once(dispatcher, tracker)


class ActionTriageRedFlags(Action):
    """Warning signs first: what to do now, then the question that came with them.

    Run again on a message without a sign ("so what should I do?" right after
    a warning, data/rules/safety.yml), it repeats the warning about the signs
    the patient gave, and nothing else."""

    def name(self) -> Text:
        return "action_triage_red_flags"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        content = content_for(tracker)
        language = tracker.get_slot("language")
        signs = LIBRARY.signs(tracker.latest_message.get("text") or "", language)
        repeated = not signs and latest_intent(tracker) != "report_red_flag"
        if repeated:
            warned = tracker.get_slot("warned") or []
            signs = [sign for sign in content.red_flags.signs if sign.id in warned]
        dispatcher.utter_message(
            text=content.red_flags.warning(signs),
            json_message={"alert": "red_flag", "signs": [sign.id for sign in signs]},
        )
        events: List[Dict[Text, Any]] = [SlotSet("warned", [sign.id for sign in signs])]
        # Waiting for staff (connectors/replies.py runs this on a paused conversation): the
        # warning only; the clinic team answers the rest.
        if repeated or tracker.is_paused():
            return events
        # The classifier's own reading of the message stays second in the ranking.
        ranking = tracker.latest_message.get("intent_ranking") or []
        asked = next((entry for entry in ranking if entry.get("name") != "report_red_flag"), None)
        intent = asked.get("name") if asked and asked.get("confidence", 0) >= 0.5 else None
        topics = content.topics_for_questions(questions_asked(tracker, intent), tracker.latest_message.get("text") or "")
        if topics and not tracker.active_loop.get("name"):
            events += send_answers(dispatcher, content, topics)
        return events + disclaimer_once(dispatcher, tracker)


class ActionDeclineScope(Action):
    """A question outside the assistant's field: a decline that says why
    (another organ, another liver disease, a medicine), from content/scope.yml."""

    def name(self) -> Text:
        return "action_decline_scope"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        kind = tracker.latest_message.get("scope")
        dispatcher.utter_message(text=content_for(tracker).scope.decline(kind), json_message={"scope": kind or "general"})
        return disclaimer_once(dispatcher, tracker)


class ActionSuggestTopics(Action):
    """When the question was not understood: "Did you mean...?" with the likeliest
    topics; after a second miss in a row, what the assistant can do and the hand-off."""

    def name(self) -> Text:
        return "action_suggest_topics"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        content = content_for(tracker)
        in_play = self._topic_in_play(content, tracker)
        if in_play:
            # As when asked again about the topic in play: say more, not the same.
            send_explanation(dispatcher, content, in_play)
            return disclaimer_once(dispatcher, tracker)
        turns = user_turns(tracker)
        previous_intent = ((turns[-2].get("parse_data") or {}).get("intent") or {}).get("name") if len(turns) > 1 else None
        if previous_intent == "nlu_fallback":
            dispatcher.utter_message(response="utter_second_miss")
            return disclaimer_once(dispatcher, tracker)
        candidates = [content.topic_for_intent(entry.get("name")) for entry in tracker.latest_message.get("intent_ranking") or []]
        candidates = [topic for topic in candidates[:4] if topic] + content.search(tracker.latest_message.get("text") or "")
        suggestions: List[Topic] = []
        for topic in candidates:
            if topic.id not in [chosen.id for chosen in suggestions]:
                suggestions.append(topic)
        suggestions = suggestions[:3]
        if suggestions:
            dispatcher.utter_message(
                response="utter_did_you_mean",
                buttons=[{"title": topic.question, "payload": f"/{topic.intents[0]}"} for topic in suggestions],
            )
        else:
            dispatcher.utter_message(response="utter_default")
        return disclaimer_once(dispatcher, tracker)

    @staticmethod
    def _topic_in_play(content: Content, tracker: Tracker) -> Optional[Topic]:
        """A follow-up the classifier finds ambiguous ("so which one have I got?"
        after the stones answer) is about the topic just answered, when that topic
        is one of its two likeliest readings."""
        ranking = [entry for entry in tracker.latest_message.get("intent_ranking") or [] if entry.get("name") != "nlu_fallback"]
        topic = content.topic(tracker.get_slot("topic"))
        for entry in ranking[:2]:
            if topic and entry.get("name") in topic.intents and entry.get("confidence", 0) >= CONTEXT_FLOOR:
                return topic
        return None


class ActionSendSummary(Action):
    """"Send me a summary": the topics answered in this conversation, in the
    order asked, and the warning signs the patient gave, dated, to keep or
    take to the doctor. Short enough for one or two text messages; only what
    the chat said (the topics' questions and the signs' names), nothing else."""

    def name(self) -> Text:
        return "action_send_summary"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        content = content_for(tracker)
        payloads = [(event.get("data") or {}).get("custom") or {} for event in tracker.events if event.get("event") == "bot"]
        topics: List[Topic] = []
        for payload in payloads:
            topic = content.topic(payload.get("topic"))
            if topic and topic not in topics:
                topics.append(topic)
        warned = {sign_id for payload in payloads if payload.get("alert") for sign_id in payload.get("signs") or []}
        signs = [sign for sign in content.red_flags.signs if sign.id in warned]
        if not topics and not signs:
            dispatcher.utter_message(text=content.clinic["summary_empty"])
            return []
        lines = [content.clinic["summary_intro"].format(date=datetime.date.today().isoformat())]
        lines += [f"{number}. {topic.question}" for number, topic in enumerate(topics, start=1)]
        if signs:
            lines.append(content.clinic["summary_warning"].format(
                signs=content.red_flags.joiners["and"].join(sign.name for sign in signs)))
        lines.append(content.clinic["summary_closing"])
        dispatcher.utter_message(text="\n".join(lines), json_message={"summary": [topic.id for topic in topics],
                                                                      "signs": [sign.id for sign in signs]})
        return []


CHECK_SLOTS = ("scan", "spots", "symptoms", "wide_ducts", "mass", "liver_disease", "cancer_history", "parasite_area")


class ActionSummarizeCheck(Action):
    """The end of the guided check: advice picked by the decision table in content/guidance.yml."""

    def name(self) -> Text:
        return "action_summarize_check"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        guidance = content_for(tracker).guidance
        answers = {slot: tracker.get_slot(slot) for slot in CHECK_SLOTS}
        rules = guidance.advise(answers)
        dispatcher.utter_message(text=guidance.intro)
        for rule in rules:
            dispatcher.utter_message(text=rule.message)
        dispatcher.utter_message(
            text=guidance.closing,
            json_message={
                "check": answers,
                "rules": [rule.id for rule in rules],
                "sources": sorted({source for rule in rules for source in rule.sources}),
            },
        )
        # Cleared so that the check can be taken again; the answers stay on record.
        return [SlotSet("check_answers", answers)] + [SlotSet(slot, None) for slot in CHECK_SLOTS]


class ActionHandOff(Action):
    """Asks clinic staff to take over and pauses the assistant until they hand the
    conversation back through Rasa's HTTP API. A paused conversation is in the staff
    console's queue (STAFF_CONSOLE_URL is set while the console runs); a clinic with
    its own system gets the conversation posted to HANDOFF_WEBHOOK_URL, and its
    accepting the post pauses too. Outside opening hours (content/clinic.yml) the
    patient is told when staff will answer and the clinic's phone number."""

    def name(self) -> Text:
        return "action_hand_off"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        url = os.environ.get("HANDOFF_WEBHOOK_URL")
        posted = bool(url) and await self._post(url, self._payload(tracker))
        if posted or os.environ.get("STAFF_CONSOLE_URL"):
            text = LIBRARY.waiting_for_staff(tracker.get_slot("language"), now())
            dispatcher.utter_message(text=text, json_message={"handoff": "requested"})
            return [ConversationPaused()]
        clinic = content_for(tracker).clinic
        dispatcher.utter_message(text=f"{clinic['handoff_unavailable']} {clinic['contact']}")
        return disclaimer_once(dispatcher, tracker)

    @staticmethod
    def _payload(tracker: Tracker) -> Dict[Text, Any]:
        texts = [event.get("text") or "" for event in user_turns(tracker)]
        signs = {sign.id for text in texts for sign in LIBRARY.assess_red_flags(text)[0]}
        answers = tracker.get_slot("check_answers") or {slot: tracker.get_slot(slot) for slot in CHECK_SLOTS if tracker.get_slot(slot)}
        return {
            "event": "handoff_requested",
            "conversation_id": tracker.sender_id,
            "questions": [mask(text) for text in texts if text and not text.startswith("/")],
            "red_flags": sorted(signs),
            "check_answers": answers,
            "last_topic": tracker.get_slot("topic"),
            # Staff answer in the patient's language.
            "language": tracker.get_slot("language") or LIBRARY.languages.default,
        }

    @staticmethod
    async def _post(url: Text, payload: Dict[Text, Any]) -> bool:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                async with session.post(url, json=payload) as response:
                    if response.status < 300:
                        return True
                    logger.error("Hand-off webhook %s answered %s", url, response.status)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            logger.error("Hand-off webhook %s failed: %s", url, error)
        return False


class ActionHandBack(Action):
    """Staff hand the conversation back (a `resume` event, then this action through
    Rasa's HTTP API): the assistant says, in the conversation's language, that it is back."""

    def name(self) -> Text:
        return "action_hand_back"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=content_for(tracker).clinic["handed_back"])
        # The API runs this action alone; the listen that ends every bot turn makes the
        # patient's next message read as after any answer (the rules expect it).
        return [ActionExecuted("action_listen")]


class ActionSessionStart(Action):
    """A new session (after the idle time in domain.yml) starts as Rasa's default
    one does, but a conversation waiting for staff stays paused, in its language: a
    patient who writes again the next morning still waits for the clinic team, and
    the assistant does not answer in their place."""

    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SessionStarted()]
        if tracker.is_paused():
            events += [SlotSet("language", tracker.get_slot("language")), ConversationPaused()]
        return events + [ActionExecuted("action_listen")]


class ActionRecordFeedback(Action):
    """Records whether an answer helped, with its topic, so a clinic sees which answers fail."""

    def name(self) -> Text:
        return "action_record_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict[Text, Any]]:
        helpful = latest_intent(tracker) == "feedback_helpful"
        topic = tracker.get_slot("topic")
        logger.info("Feedback on topic %s: %s", topic, "helpful" if helpful else "not helpful")
        dispatcher.utter_message(response="utter_feedback_thanks" if helpful else "utter_feedback_sorry")
        return [SlotSet("feedback", {"topic": topic, "helpful": helpful})]
