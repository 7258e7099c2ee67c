"""One reader of ML Metadata property values (``mlmd.value_of``), also behind
``artifact_io.custom_properties``."""

from __future__ import annotations

import pytest
from ml_metadata.proto import metadata_store_pb2

from tfx_addons_lab.mlmd import prop, value_of


def _value(**kwargs) -> metadata_store_pb2.Value:
    return metadata_store_pb2.Value(**kwargs)


def _struct(json_value) -> metadata_store_pb2.Value:
    from google.protobuf import json_format

    value = metadata_store_pb2.Value()
    json_format.ParseDict(json_value, value.struct_value)
    return value


@pytest.mark.parametrize(
    "value, expected",
    [
        (_value(int_value=3), 3),
        (_value(double_value=0.5), 0.5),
        (_value(string_value="ok"), "ok"),
        (_value(), None),
        (_struct({"__value__": 1.0}), 1),  # a Vertex round trip of an int property
        (_struct({"__value__": "x"}), "x"),  # TFX's wrapper of a non-dict JSON value
        (_struct({"__value__": [1, "a"]}), [1.0, "a"]),
        (_struct({"train": 1, "eval": 0}), {"train": 1.0, "eval": 0.0}),
        (_struct({"__value__": 2.0**60}), 2.0**60),  # digits already lost: stays a float
        (_struct({"__value__": 0.25}), 0.25),
    ],
)
def test_value_of(value, expected):
    got = value_of(value)
    assert got == expected and type(got) is type(expected)


def test_custom_properties_of_an_artifact_read_like_tfx_and_like_ml_metadata():
    from tfx.types import standard_artifacts

    from tfx_addons_lab import artifact_io

    art = standard_artifacts.ExampleAnomalies()
    art.set_int_custom_property("blessed_int", 1)
    art.set_string_custom_property("reason", "fine")
    art.set_float_custom_property("share", 0.25)
    art.set_json_value_custom_property("blessed", {"train": 1, "eval": 0})
    art.set_json_value_custom_property("count", 7)
    art.set_json_value_custom_property("names", ["a", "b"])
    props = artifact_io.custom_properties(art)
    assert props == {
        "blessed_int": 1,
        "reason": "fine",
        "share": 0.25,
        "blessed": {"train": 1, "eval": 0},
        "count": 7,
        "names": ["a", "b"],
    }
    for key in ("blessed", "count", "names"):  # as TFX's own reader decodes them
        assert props[key] == art.get_json_value_custom_property(key)
    assert prop(art.mlmd_artifact, "count") == 7
