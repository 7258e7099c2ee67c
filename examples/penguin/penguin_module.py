"""Transform and Trainer module file of the penguin example (Keras via ``tf_keras``).

Used as ``module_file`` by both Transform (``preprocessing_fn``) and Trainer (``run_fn``).
Besides the SavedModel with a ``serving_default`` signature over serialized tf.Examples, the
trainer writes ``metrics.json`` (final training/validation metrics) next to the model so gates
can read metrics without TFMA.
"""

import json
import os
from typing import List

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
import tf_keras as keras  # noqa: E402
from tfx import v1 as tfx  # noqa: E402
from tfx_bsl.public import tfxio  # noqa: E402

FEATURE_KEYS = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL_KEY = "species"
TRAIN_BATCH_SIZE = 20
EVAL_BATCH_SIZE = 10


def transformed_name(key: str) -> str:
    return key + "_xf"


def preprocessing_fn(inputs):
    """Scale the numeric features to z-scores; pass the integer label through."""
    outputs = {transformed_name(k): tft.scale_to_z_score(inputs[k]) for k in FEATURE_KEYS}
    outputs[transformed_name(LABEL_KEY)] = inputs[LABEL_KEY]
    return outputs


def _input_fn(
    file_pattern: List[str],
    data_accessor: tfx.components.DataAccessor,
    tf_transform_output: tft.TFTransformOutput,
    batch_size: int,
) -> tf.data.Dataset:
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, label_key=transformed_name(LABEL_KEY)
        ),
        tf_transform_output.transformed_metadata.schema,
    ).repeat()


def _make_model(learning_rate: float = 1e-2, hidden: int = 8) -> keras.Model:
    inputs = [keras.layers.Input(shape=(1,), name=transformed_name(f)) for f in FEATURE_KEYS]
    d = keras.layers.concatenate(inputs)
    for _ in range(2):
        d = keras.layers.Dense(hidden, activation="relu")(d)
    outputs = keras.layers.Dense(3)(d)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _serving_signatures(model, tf_transform_output: tft.TFTransformOutput):
    model.tft_layer = tf_transform_output.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve_tf_examples_fn(serialized_tf_example):
        raw_feature_spec = tf_transform_output.raw_feature_spec()
        raw_feature_spec.pop(LABEL_KEY)
        raw_features = tf.io.parse_example(serialized_tf_example, raw_feature_spec)
        return {"outputs": model(model.tft_layer(raw_features))}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features_fn(serialized_tf_example):
        raw_feature_spec = tf_transform_output.raw_feature_spec()
        raw_features = tf.io.parse_example(serialized_tf_example, raw_feature_spec)
        return model.tft_layer(raw_features)

    return {"serving_default": serve_tf_examples_fn, "transform_features": transform_features_fn}


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Train the DNN; save the SavedModel and ``metrics.json`` into the serving model dir."""
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train = _input_fn(
        fn_args.train_files, fn_args.data_accessor, tf_transform_output, TRAIN_BATCH_SIZE
    )
    evals = _input_fn(
        fn_args.eval_files, fn_args.data_accessor, tf_transform_output, EVAL_BATCH_SIZE
    )
    custom = fn_args.custom_config or {}
    model = _make_model(float(custom.get("learning_rate", 1e-2)), int(custom.get("hidden", 8)))
    history = model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        validation_data=evals,
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )
    tf.saved_model.save(
        model, fn_args.serving_model_dir, signatures=_serving_signatures(model, tf_transform_output)
    )
    metrics = {k: float(v[-1]) for k, v in history.history.items()}
    with tf.io.gfile.GFile(os.path.join(fn_args.serving_model_dir, "metrics.json"), "w") as f:
        f.write(json.dumps(metrics, indent=2, sort_keys=True))
