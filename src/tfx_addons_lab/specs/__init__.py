"""Component specs: the contract shared by a component and its executor.

One module per component (as tfx-addons' ``spec.py``): its ``ComponentSpec`` (inputs,
outputs, parameters), the key constants both sides use, parameter normalisation done at
pipeline-build time, and naming helpers. Components and executors both import a spec; a spec
imports only TFX types and the TFX-free core, so there is no import cycle. Artifact classes
live in :mod:`tfx_addons_lab.specs.artifacts` (also exported as ``tfx_addons_lab.DriftReport``
and ``tfx_addons_lab.GateReport``, the schema titles Vertex AI imports them by).
"""
