"""The intent classifier saved as arrays answers exactly as it did before saving."""
import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import ArrayLogisticRegressionClassifier

CONFIG = {"random_state": 42, "max_iter": 1000}
CONTEXT = ExecutionContext(GraphSchema({}), node_name="intent_classifier")


def message(vector: np.ndarray, intent: str = "") -> Message:
    data = {TEXT: "some words", **({INTENT: intent} if intent else {})}
    made = Message(data=data)
    made.add_features(Features(scipy.sparse.coo_matrix(vector), FEATURE_TYPE_SENTENCE, TEXT, "test"))
    return made


@pytest.fixture
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def test_a_loaded_classifier_ranks_intents_as_the_trained_one(storage):
    rng = np.random.default_rng(0)
    intents = ["ask_dangerous", "ask_cancer", "greet"]
    training = [message(rng.poisson(1.0, (1, 40)) + 3 * np.eye(40)[[i]], name)
                for i, name in enumerate(intents) for _ in range(20)]
    resource = Resource("intent_classifier")
    trained = ArrayLogisticRegressionClassifier.create(CONFIG, storage, resource, CONTEXT)
    trained.train(TrainingData(training))

    loaded = ArrayLogisticRegressionClassifier.load(CONFIG, storage, resource, CONTEXT)

    vectors = rng.poisson(1.0, (10, 40))
    before = trained.process([message(v[None, :]) for v in vectors])
    after = loaded.process([message(v[None, :]) for v in vectors])
    assert {m.get(INTENT)["name"] for m in before} <= set(intents)
    assert [m.get("intent_ranking") for m in after] == [m.get("intent_ranking") for m in before]


def test_loading_what_was_never_trained_gives_an_untrained_classifier(storage):
    loaded = ArrayLogisticRegressionClassifier.load(CONFIG, storage, Resource("never_trained"), CONTEXT)
    assert not hasattr(loaded.clf, "coef_")
