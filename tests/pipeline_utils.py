"""Run real TFX pipelines in tests (LocalDagRunner + SQLite ML Metadata) and query MLMD."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

PENGUIN_FEATURES = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]


def write_penguins_csv(df, folder: Path, rows: Optional[Sequence[int]] = None) -> Path:
    """Write the penguin CSV that the TFX penguin tutorial uses (numeric features, int label)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = df.rename(
        columns={"bill_length_mm": "culmen_length_mm", "bill_depth_mm": "culmen_depth_mm"}
    )[["species", *PENGUIN_FEATURES]].copy()
    out["species"] = out["species"].map({"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}).astype(int)
    out["flipper_length_mm"] = out["flipper_length_mm"].astype(float)
    out["body_mass_g"] = out["body_mass_g"].astype(float)
    if rows is not None:
        out = out.iloc[list(rows)]
    out.to_csv(folder / "penguins.csv", index=False)
    return folder


@dataclass
class PipelineRun:
    """A finished local pipeline run: its root folder and its ML Metadata store."""

    root: Path
    metadata_path: Path
    name: str

    @property
    def store(self):
        from ml_metadata.metadata_store import metadata_store
        from tfx.orchestration import metadata

        config = metadata.sqlite_metadata_connection_config(str(self.metadata_path))
        return metadata_store.MetadataStore(config)

    def artifacts(self, type_name: str) -> List:
        """All artifacts of ``type_name`` (MLMD protos), oldest first."""
        arts = self.store.get_artifacts_by_type(type_name)
        return sorted(arts, key=lambda a: a.id)

    def latest(self, type_name: str):
        arts = self.artifacts(type_name)
        assert arts, f"no {type_name} artifact in {self.metadata_path}"
        return arts[-1]

    def executions(self, component_id: Optional[str] = None) -> List:
        execs = self.store.get_executions()
        if component_id is not None:
            execs = [
                e
                for e in execs
                if e.properties.get("component_id", None) is not None
                and e.properties["component_id"].string_value == component_id
                or e.custom_properties.get("component_id") is not None
                and e.custom_properties["component_id"].string_value == component_id
            ]
        return sorted(execs, key=lambda e: e.id)


def custom_property(artifact, name: str):
    """Value of an MLMD artifact's custom property (int, double, string, or proto/struct)."""
    value = artifact.custom_properties[name]
    kind = value.WhichOneof("value")
    if kind == "struct_value":
        from google.protobuf import json_format

        return json_format.MessageToDict(value.struct_value)
    return getattr(value, kind)


def run_pipeline(
    components: Iterable,
    root: Path,
    name: str = "test-pipeline",
    enable_cache: bool = False,
    beam_pipeline_args: Optional[Sequence[str]] = None,
) -> PipelineRun:
    """Run ``components`` with LocalDagRunner and SQLite MLMD under ``root``; return the run.

    Calling it again with the same ``root`` and ``name`` appends a run to the same MLMD store
    (continuous-training style), which is how tests exercise resolvers and caching.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    from tfx import v1 as tfx

    root = Path(root)
    metadata_path = root / "metadata.sqlite"
    p = tfx.dsl.Pipeline(
        pipeline_name=name,
        pipeline_root=str(root / "pipeline_root"),
        components=list(components),
        enable_cache=enable_cache,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            str(metadata_path)
        ),
        beam_pipeline_args=list(beam_pipeline_args or ["--direct_num_workers=1"]),
    )
    tfx.orchestration.LocalDagRunner().run(p)
    return PipelineRun(root=root, metadata_path=metadata_path, name=name)
