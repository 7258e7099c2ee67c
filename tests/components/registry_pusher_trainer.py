"""Tiny Trainer module for the RegistryPusher tests: a tf_keras model on the penguin CSV.

Used as ``Trainer(module_file=...)``; trains a few steps only (the point is a real Model
artifact with a Serving SavedModel, not accuracy).
"""

import json
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]
LABEL = "species"


def _dataset(files, batch_size=16):
    import tensorflow as tf

    spec = {f: tf.io.FixedLenFeature([1], tf.float32) for f in FEATURES}
    spec[LABEL] = tf.io.FixedLenFeature([1], tf.int64)

    def parse(serialized):
        parsed = tf.io.parse_example(serialized, spec)
        x = tf.concat([parsed[f] for f in FEATURES], axis=1)
        return x, parsed[LABEL]

    ds = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(batch_size)
    return ds.map(parse).repeat()


def run_fn(fn_args):
    import tensorflow as tf
    import tf_keras as keras

    model = keras.Sequential([keras.layers.Input(shape=(len(FEATURES),)), keras.layers.Dense(3)])
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    files = [f for pattern in fn_args.train_files for f in tf.io.gfile.glob(pattern)]
    model.fit(_dataset(files), steps_per_epoch=max(1, fn_args.train_steps), epochs=1, verbose=0)
    model.save(fn_args.serving_model_dir, save_format="tf")
    with open(os.path.join(fn_args.serving_model_dir, "metrics.json"), "w") as f:
        json.dump({"train_steps": fn_args.train_steps}, f)
