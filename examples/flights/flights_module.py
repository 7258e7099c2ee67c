"""Transform and Trainer module of the flights example (Keras via ``tf_keras``)."""

import json
import os
from typing import List

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
import tf_keras as keras  # noqa: E402
from tfx import v1 as tfx  # noqa: E402
from tfx_bsl.public import tfxio  # noqa: E402

NUMERIC = ["dep_delay", "distance", "hour", "temp", "humid", "wind_speed", "precip", "visib"]
CATEGORICAL = ["carrier", "origin"]
LABEL = "late"


def _xf(key: str) -> str:
    return key + "_xf"


def preprocessing_fn(inputs):
    """z-score the numeric features, map the categorical ones to vocabulary ids."""
    out = {_xf(k): tft.scale_to_z_score(tf.cast(inputs[k], tf.float32)) for k in NUMERIC}
    for k in CATEGORICAL:
        out[_xf(k)] = tft.compute_and_apply_vocabulary(
            inputs[k], num_oov_buckets=1, vocab_filename=k
        )
    out[_xf(LABEL)] = inputs[LABEL]
    return out


def _dataset(files: List[str], accessor, tf_transform_output, batch_size: int) -> tf.data.Dataset:
    return accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=_xf(LABEL)),
        tf_transform_output.transformed_metadata.schema,
    ).repeat()


def _model(tf_transform_output) -> keras.Model:
    inputs, parts = [], []
    for k in NUMERIC:
        x = keras.layers.Input(shape=(1,), name=_xf(k))
        inputs.append(x)
        parts.append(x)
    for k in CATEGORICAL:
        x = keras.layers.Input(shape=(1,), name=_xf(k), dtype="int64")
        inputs.append(x)
        size = tf_transform_output.vocabulary_size_by_name(k) + 1
        parts.append(keras.layers.Flatten()(keras.layers.Embedding(size, 4)(x)))
    d = keras.layers.concatenate(parts)
    d = keras.layers.Dense(16, activation="relu")(d)
    out = keras.layers.Dense(1, activation="sigmoid")(d)
    model = keras.Model(inputs=inputs, outputs=out)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="binary_crossentropy",
        metrics=[keras.metrics.BinaryAccuracy(), keras.metrics.AUC(name="auc")],
    )
    return model


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Train; save the SavedModel (serving + transform signatures) and ``metrics.json``."""
    tft_out = tft.TFTransformOutput(fn_args.transform_output)
    train = _dataset(fn_args.train_files, fn_args.data_accessor, tft_out, 64)
    evals = _dataset(fn_args.eval_files, fn_args.data_accessor, tft_out, 64)
    model = _model(tft_out)
    history = model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        validation_data=evals,
        validation_steps=fn_args.eval_steps,
        verbose=0,
    )
    model.tft_layer = tft_out.transform_features_layer()

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        spec = tft_out.raw_feature_spec()
        spec.pop(LABEL)
        return {"outputs": model(model.tft_layer(tf.io.parse_example(serialized, spec)))}

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def transform_features(serialized):
        return model.tft_layer(tf.io.parse_example(serialized, tft_out.raw_feature_spec()))

    tf.saved_model.save(
        model,
        fn_args.serving_model_dir,
        signatures={"serving_default": serve, "transform_features": transform_features},
    )
    metrics = {k: float(v[-1]) for k, v in history.history.items()}
    with tf.io.gfile.GFile(os.path.join(fn_args.serving_model_dir, "metrics.json"), "w") as f:
        f.write(json.dumps(metrics, indent=2, sort_keys=True))
