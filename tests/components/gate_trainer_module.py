"""A tiny Trainer module for the gate tests: raw penguin features, Keras via ``tf_keras``.

No Transform: the serving signature parses serialized tf.Examples and scales the four numeric
features by fixed constants. Besides the SavedModel, ``run_fn`` writes ``metrics.json``
(final Keras training/validation metrics) into the serving model directory, the way a
non-TFMA trainer reports its metrics to BlessingGate.

``custom_config``: ``learning_rate`` (default 0.02), ``seed`` (default 0).
"""

import json
import os
from typing import List

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tfx import v1 as tfx  # noqa: E402
from tfx_bsl.public import tfxio  # noqa: E402

FEATURE_SCALES = {
    "culmen_length_mm": 50.0,
    "culmen_depth_mm": 20.0,
    "flipper_length_mm": 200.0,
    "body_mass_g": 5000.0,
}
LABEL_KEY = "species"


def _feature_spec(with_label: bool) -> dict:
    spec = {k: tf.io.FixedLenFeature([1], tf.float32) for k in FEATURE_SCALES}
    if with_label:
        spec[LABEL_KEY] = tf.io.FixedLenFeature([1], tf.int64)
    return spec


def _input_fn(
    files: List[str],
    data_accessor: tfx.components.DataAccessor,
    schema,
    batch_size: int,
    seed: int,
) -> tf.data.Dataset:
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=batch_size, label_key=LABEL_KEY, shuffle=True, shuffle_seed=seed
    )
    return data_accessor.tf_dataset_factory(files, options, schema).repeat()


def _make_model(learning_rate: float) -> keras.Model:
    inputs = {k: keras.layers.Input(shape=(1,), name=k) for k in FEATURE_SCALES}
    scaled = [inputs[k] / scale for k, scale in FEATURE_SCALES.items()]
    d = keras.layers.concatenate(scaled)
    d = keras.layers.Dense(16, activation="relu")(d)
    outputs = keras.layers.Dense(3)(d)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Train for ``train_steps``; save the SavedModel and ``metrics.json``."""
    custom = fn_args.custom_config or {}
    seed = int(custom.get("seed", 0))
    keras.utils.set_random_seed(seed)
    schema = tfx.utils.parse_pbtxt_file(fn_args.schema_path, _schema_proto())
    train = _input_fn(fn_args.train_files, fn_args.data_accessor, schema, 20, seed)
    evals = _input_fn(fn_args.eval_files, fn_args.data_accessor, schema, 20, seed)
    model = _make_model(float(custom.get("learning_rate", 0.02)))
    history = model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        validation_data=evals,
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        features = tf.io.parse_example(serialized, _feature_spec(with_label=False))
        return {"outputs": model(features)}

    tf.saved_model.save(model, fn_args.serving_model_dir, signatures={"serving_default": serve})
    metrics = {k: float(v[-1]) for k, v in history.history.items()}
    with tf.io.gfile.GFile(os.path.join(fn_args.serving_model_dir, "metrics.json"), "w") as f:
        f.write(json.dumps(metrics, indent=2, sort_keys=True))


def _schema_proto():
    from tensorflow_metadata.proto.v0 import schema_pb2

    return schema_pb2.Schema()
