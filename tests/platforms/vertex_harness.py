"""Run a compiled Kubeflow Pipelines v2 / Vertex AI spec task by task, as Vertex's launcher does.

For each container task, in dependency order, the harness builds the ``ExecutorInput`` JSON
from the spec (the component's input/output definitions, the task's constant parameters)
and the upstream tasks' published outputs, and runs the command of the spec's
``deploymentSpec`` in a subprocess, ``{{$}}`` replaced by that JSON::

    python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor \\
        --executor_class_path ... --json_serialized_invocation_args <ExecutorInput JSON> ...

A task parameter whose constant is one of KFP's runtime placeholders (``{{$.pipeline_job_name}}``,
``{{$.pipeline_job_uuid}}``, ``{{$.pipeline_job_resource_name}}``, ``{{$.pipeline_task_name}}``,
``{{$.pipeline_task_uuid}}``; the whole constant, as KFP's driver matches them) gets the job's
or task's value before the cache lookup, as the backend does: the job name is the ``run_id``
given to :meth:`VertexHarness.run`, the job uuid a new uuid per run (``RunResult.job_uuid``).

A ``lifecycle.preCacheCheck`` (file-based ExampleGen's driver) runs first with the same
input; its ``ExecutorOutput`` (span, fingerprint, the output artifact's metadata) is applied
to the task before the cache lookup, as Vertex does. The executor's ``ExecutorOutput``
(``executor_output.json``) is then "published": each output artifact keeps the resource name
and URI given in the input and takes the metadata the executor wrote.

What stands in for Vertex's services:

* **ML Metadata** is :class:`MetadataStore`, a JSON file: every published artifact with its
  resource name (``projects/123456789/locations/us-central1/metadataStores/default/
  artifacts/<n>``), schema title, URI, metadata (custom properties as JSON) and creation
  order; it persists across runs sharing one ``root``.
* **Resolver tasks** (``executor.resolver.outputArtifactQueries``, e.g. TFX's
  ``LatestBlessedModelStrategy`` compiled into two queries) are evaluated over that store:
  the filter grammar TFX emits (``schema_title="..."``, ``state=LIVE``,
  ``metadata.<key>.number_value=<n>``, ``metadata.<key>.string_value="..."``,
  ``name="..."``, joined by ``AND``), placeholders like
  ``{{$.inputs.artifacts['input'].metadata['current_model_id']}}`` rendered from the task's
  input artifact (a number as Python's ``str`` of the JSON float); the newest match wins. An
  empty result leaves the output empty, and a consumer then gets no artifact for that key.
* **Caching**: a task with ``cachingOptions.enableCache`` whose executor, parameters (after
  the placeholders above are resolved) and input artifact names equal an earlier execution's
  reuses its published outputs.
* **Storage**: artifact URIs are local folders below ``root/pipeline_root/<run_id>/
  <task>_<n>/<output key>`` (Vertex: ``gs://<root>/<project>/<job>/<task>_<id>/<key>``).

Not emulated (the penguin spec has none): conditions (``triggerPolicy``), loops, output
parameters consumed downstream, importer tasks. :meth:`VertexHarness.run` refuses a spec
using them.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

RESOURCE_PREFIX = "projects/123456789/locations/us-central1/metadataStores/default/artifacts/"
_TITLE = re.compile(r"^title:\s*(\S+)", re.M)
_JOB_PROJECT = "projects/123456789/locations/us-central1/pipelineJobs/"
_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.artifacts\['([^']+)'\]\.metadata\['([^']+)'\]\}\}")


def schema_title(artifact_type: Mapping[str, Any]) -> str:
    """The schema title of a pipeline-spec ``artifactType`` (``schemaTitle`` or in YAML)."""
    if "schemaTitle" in artifact_type:
        return artifact_type["schemaTitle"]
    match = _TITLE.search(artifact_type.get("instanceSchema", ""))
    return match.group(1) if match else "system.Artifact"


@dataclass
class Artifact:
    """A published artifact as Vertex ML Metadata holds it."""

    name: str
    title: str
    uri: str
    metadata: Dict[str, Any]
    seq: int
    run_id: str
    task: str
    key: str
    state: str = "LIVE"

    def runtime(self, artifact_type: Mapping[str, Any]) -> Dict[str, Any]:
        """This artifact as a ``RuntimeArtifact`` of an ``ExecutorInput``."""
        out = {"name": self.name, "uri": self.uri, "type": dict(artifact_type)}
        if self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out


class MetadataStore:
    """The artifacts published so far (a JSON file), queried like Vertex ML Metadata."""

    def __init__(self, path: Path):
        self.path = path
        self.artifacts: List[Artifact] = []
        self.cache: Dict[str, Dict[str, List[str]]] = {}
        self.next_id = 1
        if path.exists():
            data = json.loads(path.read_text())
            self.artifacts = [Artifact(**a) for a in data["artifacts"]]
            self.cache = data["cache"]
            self.next_id = data["next_id"]

    def save(self) -> None:
        data = {
            "artifacts": [a.__dict__ for a in self.artifacts],
            "cache": self.cache,
            "next_id": self.next_id,
        }
        self.path.write_text(json.dumps(data, indent=1, sort_keys=True))

    def new_name(self) -> str:
        name = f"{RESOURCE_PREFIX}{self.next_id}"
        self.next_id += 1
        return name

    def by_name(self, name: str) -> Artifact:
        return next(a for a in self.artifacts if a.name == name)

    def publish(self, artifact: Artifact) -> Artifact:
        artifact.seq = len(self.artifacts) + 1
        self.artifacts.append(artifact)
        return artifact

    def query(self, filter_text: str) -> List[Artifact]:
        """Artifacts matching a rendered Vertex filter, newest first."""
        clauses = [c.strip() for c in re.split(r"\s+AND\s+", filter_text.strip()) if c.strip()]
        tests = [_clause(c) for c in clauses]
        found = [a for a in self.artifacts if all(t(a) for t in tests)]
        return sorted(found, key=lambda a: a.seq, reverse=True)


def _clause(text: str):
    m = re.fullmatch(r'schema_title="([^"]*)"', text)
    if m:
        return lambda a, v=m.group(1): a.title == v
    m = re.fullmatch(r"state=(\w+)", text)
    if m:
        return lambda a, v=m.group(1): a.state == v
    m = re.fullmatch(r'name="([^"]*)"', text)
    if m:
        return lambda a, v=m.group(1): a.name == v
    m = re.fullmatch(r"metadata\.(\w+)\.number_value=(-?[0-9.eE+]+)", text)
    if m:
        key, want = m.group(1), float(m.group(2))
        return lambda a: (
            isinstance(a.metadata.get(key), (int, float)) and float(a.metadata[key]) == want
        )
    m = re.fullmatch(r'metadata\.(\w+)\.string_value="([^"]*)"', text)
    if m:
        return lambda a, k=m.group(1), v=m.group(2): a.metadata.get(k) == v
    raise NotImplementedError(f"filter clause not emulated: {text!r}")


REPO = Path(__file__).resolve().parents[2]


def task_env() -> Dict[str, str]:
    """Environment of a task subprocess: this checkout's ``src`` and root (for ``examples``)
    on ``PYTHONPATH``, TF's legacy Keras (``tf_keras``, as TFX trainers use) and TF's C++ log
    quiet, unless the caller's environment sets them."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO)])
    env.setdefault("TF_USE_LEGACY_KERAS", "1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def runtime_placeholders(run_id: str, job_uuid: str, task: str) -> Dict[str, str]:
    """KFP's pipeline/task placeholders -> their values in one task of one job."""
    return {
        "{{$.pipeline_job_name}}": run_id,
        "{{$.pipeline_job_uuid}}": job_uuid,
        "{{$.pipeline_job_resource_name}}": _JOB_PROJECT + run_id,
        "{{$.pipeline_task_name}}": task,
        "{{$.pipeline_task_uuid}}": str(uuid.uuid5(uuid.UUID(job_uuid), task)),
    }


def _render(value: Any) -> str:
    # How a JSON value lands in a filter string: numbers are JSON floats.
    return str(float(value)) if isinstance(value, (int, float)) else str(value)


@dataclass
class TaskResult:
    """What happened to one task of a run."""

    name: str
    status: str  # "succeeded", "cached", "resolved", "failed", "skipped"
    outputs: Dict[str, List[Artifact]] = field(default_factory=dict)
    seconds: float = 0.0
    log: Optional[Path] = None
    executor_input: Optional[Dict[str, Any]] = None
    error: str = ""


@dataclass
class RunResult:
    run_id: str
    tasks: Dict[str, TaskResult]
    seconds: float
    job_uuid: str = ""

    @property
    def ok(self) -> bool:
        return all(t.status in ("succeeded", "cached", "resolved") for t in self.tasks.values())

    def output(self, task: str, key: str) -> Optional[Artifact]:
        arts = self.tasks[task].outputs.get(key) or []
        return arts[0] if arts else None

    def failures(self) -> str:
        return "\n\n".join(
            f"{t.name}: {t.status}\n{t.error}"
            for t in self.tasks.values()
            if t.status in ("failed", "skipped")
        )


class VertexHarness:
    """Execute a compiled pipeline spec (``KubeflowV2DagRunner`` JSON) the way Vertex does.

    Args:
      spec_path: the compiled pipeline job JSON.
      root: the harness state (metadata store, pipeline outputs, logs); reuse it across
        runs to get Vertex's caching and resolver behaviour over earlier runs.
      python: the interpreter of the "container" (default: this one).
      env: environment of every task subprocess (default: this process's).
      task_timeout: seconds per subprocess.
    """

    def __init__(
        self,
        spec_path: Path,
        root: Path,
        python: str = sys.executable,
        env: Optional[Mapping[str, str]] = None,
        task_timeout: float = 1200,
    ):
        job = json.loads(Path(spec_path).read_text())
        self.spec = job["pipelineSpec"]
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.python = python
        self.env = dict(os.environ if env is None else env)
        self.task_timeout = task_timeout
        self.store = MetadataStore(self.root / "metadata.json")
        self._job_uuid = str(uuid.uuid4())  # a new one per run()

    # -- plan ---------------------------------------------------------------------------------

    def tasks_in_order(self) -> List[str]:
        tasks = self.spec["root"]["dag"]["tasks"]
        deps = {name: set(t.get("dependentTasks", [])) for name, t in tasks.items()}
        for name, task in tasks.items():
            for art in task.get("inputs", {}).get("artifacts", {}).values():
                if "taskOutputArtifact" in art:
                    deps[name].add(art["taskOutputArtifact"]["producerTask"])
        order: List[str] = []
        while len(order) < len(tasks):
            ready = sorted(n for n in tasks if n not in order and deps[n] <= set(order))
            if not ready:
                raise ValueError(f"cycle among tasks: {sorted(set(tasks) - set(order))}")
            order.extend(ready)
        return order

    def _check_supported(self) -> None:
        for name, task in self.spec["root"]["dag"]["tasks"].items():
            for unsupported in ("triggerPolicy", "iteratorPolicy", "parameterIterator"):
                if unsupported in task:
                    raise NotImplementedError(f"task {name}: {unsupported} is not emulated")
            for param in task.get("inputs", {}).get("parameters", {}).values():
                if "runtimeValue" not in param:
                    raise NotImplementedError(f"task {name}: non-constant parameter {param}")
            executor = self._executor(name)
            if "importer" in executor:
                raise NotImplementedError(f"task {name}: importer tasks are not emulated")

    def _component(self, task: str) -> Dict[str, Any]:
        ref = self.spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]
        return self.spec["components"][ref]

    def _executor(self, task: str) -> Dict[str, Any]:
        label = self._component(task)["executorLabel"]
        return self.spec["deploymentSpec"]["executors"][label]

    # -- run ----------------------------------------------------------------------------------

    def run(self, run_id: str, stop_on_failure: bool = True) -> RunResult:
        """Run every task of the spec once (one "pipeline job"); return what happened."""
        self._check_supported()
        self._job_uuid = str(uuid.uuid4())
        started = time.time()
        results: Dict[str, TaskResult] = {}
        failed = False
        for n, name in enumerate(self.tasks_in_order(), 1):
            if failed and stop_on_failure:
                results[name] = TaskResult(name, "skipped", error="an upstream task failed")
                continue
            task_started = time.time()
            executor = self._executor(name)
            try:
                if "resolver" in executor:
                    result = self._resolve(name, executor["resolver"], results, run_id)
                else:
                    result = self._run_container(name, n, executor, results, run_id)
            except Exception as exc:  # noqa: BLE001 - reported in the result
                result = TaskResult(name, "failed", error=f"{type(exc).__name__}: {exc}")
            result.seconds = time.time() - task_started
            results[name] = result
            failed = failed or result.status == "failed"
            self.store.save()
        return RunResult(run_id, results, time.time() - started, job_uuid=self._job_uuid)

    def _input_artifacts(
        self, name: str, results: Mapping[str, TaskResult]
    ) -> Dict[str, List[Artifact]]:
        task = self.spec["root"]["dag"]["tasks"][name]
        out: Dict[str, List[Artifact]] = {}
        for key, source in task.get("inputs", {}).get("artifacts", {}).items():
            ref = source.get("taskOutputArtifact")
            if ref is None:
                raise NotImplementedError(f"task {name}: input {key} from {source}")
            arts = results[ref["producerTask"]].outputs.get(ref["outputArtifactKey"]) or []
            if arts:
                out[key] = arts
        return out

    def _resolve(
        self, name: str, resolver: Mapping[str, Any], results: Mapping[str, TaskResult], run_id
    ) -> TaskResult:
        inputs = self._input_artifacts(name, results)
        outputs: Dict[str, List[Artifact]] = {}
        for key, query in resolver["outputArtifactQueries"].items():
            try:
                text = _PLACEHOLDER.sub(
                    lambda m: _render(inputs[m.group(1)][0].metadata[m.group(2)]),
                    query["filter"],
                )
            except (KeyError, IndexError):  # no input artifact or no such metadata key
                found = []  # the placeholder has no value: nothing resolves
            else:
                found = self.store.query(text)
            outputs[key] = found[:1]
        return TaskResult(name, "resolved", outputs=outputs, executor_input={"queries": resolver})

    def resolve_now(self) -> Dict[str, TaskResult]:
        """The spec's resolver tasks evaluated over the store now, as a new job would start.

        Only resolver tasks run (in dependency order), each fed by the earlier ones (e.g.
        ``LatestBlessedModelStrategy``'s model query takes the blessing query's output);
        nothing is published. A resolver fed by a container task is not supported.
        """
        results: Dict[str, TaskResult] = {}
        for name in self.tasks_in_order():
            executor = self._executor(name)
            if "resolver" in executor:
                results[name] = self._resolve(name, executor["resolver"], results, "now")
        return results

    def _executor_input(
        self,
        name: str,
        task_dir: Path,
        inputs: Mapping[str, List[Artifact]],
        run_id: str,
    ) -> Dict[str, Any]:
        component = self._component(name)
        task = self.spec["root"]["dag"]["tasks"][name]
        in_defs = component.get("inputDefinitions", {})
        artifacts = {}
        for key, arts in inputs.items():
            art_type = in_defs["artifacts"][key]["artifactType"]
            artifacts[key] = {"artifacts": [a.runtime(art_type) for a in arts]}
        parameters, parameter_values = {}, {}
        runtime = runtime_placeholders(run_id, self._job_uuid, name)
        for key, param in task.get("inputs", {}).get("parameters", {}).items():
            const = param["runtimeValue"]["constantValue"]
            if const.get("stringValue") in runtime:  # the backend resolves it
                const = {"stringValue": runtime[const["stringValue"]]}
            parameters[key] = dict(const)  # the v1 ``Value`` form: stringValue / intValue
            ((_, value),) = const.items()
            parameter_values[key] = int(value) if "intValue" in const else value
        outputs = {}
        for key, out_def in component.get("outputDefinitions", {}).get("artifacts", {}).items():
            outputs[key] = {
                "artifacts": [
                    {
                        "name": self.store.new_name(),
                        "uri": str(task_dir / key),
                        "type": out_def["artifactType"],
                    }
                ]
            }
        return {
            "inputs": {
                "artifacts": artifacts,
                "parameters": parameters,
                "parameterValues": parameter_values,
            },
            "outputs": {"artifacts": outputs, "outputFile": str(task_dir / "executor_output.json")},
        }

    def _command(self, container: Mapping[str, Any], executor_input: Mapping[str, Any]):
        command = list(container["command"]) + list(container.get("args", []))
        if command[0] == "python":
            command[0] = self.python
        payload = json.dumps(executor_input)
        return [payload if part == "{{$}}" else part for part in command]

    def _subprocess(self, command: Sequence[str], log: Path) -> None:
        with open(log, "a") as f:
            f.write("$ " + " ".join(command)[:2000] + "\n")
            f.flush()
            proc = subprocess.run(
                command,
                stdout=f,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=str(self.root),
                timeout=self.task_timeout,
            )
        if proc.returncode != 0:
            tail = log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"exit status {proc.returncode}; log {log}:\n{tail}")

    def _cache_key(self, name: str, executor_input: Mapping[str, Any]) -> str:
        # Vertex's cache key: the component (its executor) + input artifact names + parameters.
        inputs = {
            k: [a["name"] for a in v["artifacts"]]
            for k, v in executor_input["inputs"]["artifacts"].items()
        }
        payload = {
            "executor": self._executor(name),
            "inputs": inputs,
            "parameters": executor_input["inputs"]["parameters"],
            "outputs": sorted(executor_input["outputs"]["artifacts"]),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def _run_container(
        self,
        name: str,
        n: int,
        executor: Mapping[str, Any],
        results: Mapping[str, TaskResult],
        run_id: str,
    ) -> TaskResult:
        container = executor["container"]
        task_dir = self.root / "pipeline_root" / run_id / f"{name}_{n}"
        task_dir.mkdir(parents=True, exist_ok=True)
        log = self.root / "logs" / run_id / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        inputs = self._input_artifacts(name, results)
        executor_input = self._executor_input(name, task_dir, inputs, run_id)

        driver = container.get("lifecycle", {}).get("preCacheCheck")
        if driver:
            self._subprocess(self._command(driver, executor_input), log)
            driver_output = json.loads((task_dir / "executor_output.json").read_text())
            # Vertex updates the task's parameters and output artifacts with the driver's output.
            for key, value in driver_output.get("parameterValues", {}).items():
                executor_input["inputs"]["parameterValues"][key] = value
                kind = "intValue" if isinstance(value, (int, float)) else "stringValue"
                executor_input["inputs"]["parameters"][key] = {
                    kind: str(int(value)) if kind == "intValue" else value
                }
            for key, arts in driver_output.get("artifacts", {}).items():
                target = executor_input["outputs"]["artifacts"][key]["artifacts"][0]
                target["metadata"] = arts["artifacts"][0].get("metadata", {})

        task = self.spec["root"]["dag"]["tasks"][name]
        key = self._cache_key(name, executor_input)
        if task.get("cachingOptions", {}).get("enableCache") and key in self.store.cache:
            outputs = {
                k: [self.store.by_name(a) for a in names]
                for k, names in self.store.cache[key].items()
            }
            return TaskResult(name, "cached", outputs=outputs, executor_input=executor_input)

        (task_dir / "executor_input.json").write_text(json.dumps(executor_input, indent=1))
        self._subprocess(self._command(container, executor_input), log)

        written = json.loads((task_dir / "executor_output.json").read_text())
        outputs: Dict[str, List[Artifact]] = {}
        for out_key, given in executor_input["outputs"]["artifacts"].items():
            given_art = given["artifacts"][0]
            produced = (written.get("artifacts", {}).get(out_key) or {}).get("artifacts") or [{}]
            art = Artifact(
                name=given_art["name"],
                title=schema_title(given_art["type"]),
                uri=produced[0].get("uri") or given_art["uri"],
                metadata=produced[0].get("metadata") or given_art.get("metadata") or {},
                seq=0,
                run_id=run_id,
                task=name,
                key=out_key,
            )
            outputs[out_key] = [self.store.publish(art)]
        self.store.cache[key] = {k: [a.name for a in v] for k, v in outputs.items()}
        return TaskResult(
            name, "succeeded", outputs=outputs, log=log, executor_input=executor_input
        )
