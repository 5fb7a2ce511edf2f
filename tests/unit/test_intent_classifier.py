"""The intent classifier: a loaded model answers exactly as the trained one,
and a message with several questions carries each of them, in order."""
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import QUESTIONS, TextIntentClassifier
from content_model import load_languages

CONTEXT = ExecutionContext(GraphSchema({}), node_name="intent_classifier")
EXAMPLES = {
    "ask_dangerous": ["is it dangerous", "is this serious", "should i worry about it", "is it bad", "how serious is a calcified spot"],
    "ask_treatment": ["do i need treatment", "does it need surgery", "how is it treated", "should it be removed", "what treatment is needed"],
    "greet": ["hello", "hi there", "good morning", "hey", "hiya"],
}


def config(**changes):
    return dict(TextIntentClassifier.get_default_config(), char_min_df=1, **changes)


@pytest.fixture
def trained(tmp_path):
    storage, resource = LocalModelStorage(tmp_path), Resource("intent_classifier")
    classifier = TextIntentClassifier.create(config(), storage, resource, CONTEXT)
    classifier.train(TrainingData([Message(data={TEXT: text, INTENT: intent})
                                   for intent, texts in EXAMPLES.items() for text in texts]))
    return classifier, storage, resource


def parse(classifier, text):
    return classifier.process([Message(data={TEXT: text})])[0]


def test_a_loaded_classifier_ranks_intents_as_the_trained_one(trained):
    classifier, storage, resource = trained
    loaded = TextIntentClassifier.load(config(), storage, resource, CONTEXT)
    for text in ["is it serious?", "hey, do I need an operation", "something else entirely"]:
        assert parse(loaded, text).get("intent_ranking") == parse(classifier, text).get("intent_ranking")


def test_two_questions_in_one_message_are_both_carried_in_order(trained):
    message = parse(trained[0], "is it dangerous? and do I need treatment?")
    assert [question["intent"] for question in message.get(QUESTIONS)] == ["ask_dangerous", "ask_treatment"]


def test_a_greeting_is_not_a_question(trained):
    message = parse(trained[0], "hello! is it dangerous?")
    assert [question["intent"] for question in message.get(QUESTIONS)] == ["ask_dangerous"]


@pytest.mark.parametrize("text, parts", [
    ("is it dangerous? and do I need treatment?", ["is it dangerous", "do I need treatment"]),
    ("I'm 52. They found a spot, what does it mean", ["I'm 52", "They found a spot, what does it mean"]),
    ("is it serious and do I need surgery", ["is it serious", "do I need surgery"]),
    ("bread and butter", ["bread and butter"]),
    ("is it cancer, do I need surgery, and how long will they check it?", ["is it cancer", "do I need surgery", "how long will they check it"]),
    ("我有肝内钙化灶，这两天眼睛发黄，多久复查一次？", ["我有肝内钙化灶，这两天眼睛发黄", "多久复查一次"]),
    ("要紧吗？还有，要治疗吗", ["要紧吗", "要治疗吗"]),
    ("肝钙化有危险吗 还能喝点小酒不", ["肝钙化有危险吗", "还能喝点小酒不"]),
    ("要紧吗", ["要紧吗"]),
])
def test_messages_split_where_a_new_question_begins_in_any_language(text, parts):
    assert load_languages().parts(text) == parts


def test_loading_what_was_never_trained_gives_an_untrained_classifier(tmp_path):
    loaded = TextIntentClassifier.load(config(), LocalModelStorage(tmp_path), Resource("never_trained"), CONTEXT)
    message = loaded.process([Message(data={TEXT: "is it dangerous"})])[0]
    assert message.get(INTENT) is None


def test_probabilities_are_the_logistic_regression_s_own(trained):
    classifier = trained[0]
    texts = ["is it dangerous? and do I need treatment?", "hello", "what now"]
    expected = classifier.model[2].predict_proba(classifier._features(texts))
    assert abs(classifier._probabilities(texts) - expected).max() < 1e-12
