"""Rasa's LogisticRegressionClassifier, saved as plain arrays instead of with skops.

Why: the first `import skops.io` in a process looks up every numpy function in
every loaded module, and a Rasa process has thousands (TensorFlow's among
them), so Rasa's own save and load spend about 10 s in that import: once in
every training and again at every server start. The fitted model is three
arrays; numpy saves them without pickle, so loading a model runs no code from it.
Training and answering are Rasa's, unchanged.
"""
from __future__ import annotations

from typing import Any, Dict, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

FILE_NAME = "logistic_regression.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ArrayLogisticRegressionClassifier(LogisticRegressionClassifier):
    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / FILE_NAME, coef=self.clf.coef_, intercept=self.clf.intercept_,
                     classes=self.clf.classes_.astype(str))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> ArrayLogisticRegressionClassifier:
        component = cls.create(config, model_storage, resource, execution_context)
        try:
            with model_storage.read_from(resource) as model_dir, \
                    np.load(model_dir / FILE_NAME, allow_pickle=False) as saved:
                component.clf.coef_, component.clf.intercept_ = saved["coef"], saved["intercept"]
                component.clf.classes_ = saved["classes"]
        except ValueError:
            return component  # nothing was trained (no NLU data), as Rasa's own load does
        component.clf.n_features_in_ = component.clf.coef_.shape[1]
        return component
