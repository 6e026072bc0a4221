#!/usr/bin/env python3
"""Validates Chaos Mesh resources against the openAPIV3Schema of their CustomResourceDefinitions, strictly.

Usage: validate_chaos_mesh.py SCHEMA_DIR FILE...  SCHEMA_DIR holds the CRDs (podchaos.yaml, networkchaos.yaml, ...).
A Workflow (whose CRD is not among them) is checked for its shape, and each chaos node's embedded spec against its
kind's spec schema. Objects in the schemas are closed (an unknown field fails, as `kubectl --validate=strict`
would). Prints one line per problem; exits 1 when any resource is invalid.
"""
import os
import sys

import jsonschema
import yaml

KINDS = {"PodChaos": "podchaos", "NetworkChaos": "networkchaos", "HTTPChaos": "httpchaos"}
WORKFLOW_FIELDS = {"PodChaos": "podChaos", "NetworkChaos": "networkChaos", "HTTPChaos": "httpChaos"}


def closed(schema):
    """The schema with every object that lists its properties closed to others."""
    if isinstance(schema, dict):
        schema = {k: closed(v) for k, v in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema and not schema.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


def load_schemas(folder):
    schemas = {}
    for kind, name in KINDS.items():
        with open(os.path.join(folder, name + ".yaml"), encoding="utf-8") as f:
            crd = yaml.safe_load(f)
        schemas[kind] = closed(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    return schemas


def problems(schema, document):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(document)]


def check_workflow(schemas, document):
    found = []
    spec = document.get("spec", {})
    names = {t.get("name") for t in spec.get("templates", [])}
    if spec.get("entry") not in names:
        found.append(f"entry {spec.get('entry')!r} is no template")
    for template in spec.get("templates", []):
        kind = template.get("templateType")
        for child in template.get("children", []) or []:
            if child not in names:
                found.append(f"template {template.get('name')}: child {child!r} is no template")
        if kind in WORKFLOW_FIELDS:
            embedded = template.get(WORKFLOW_FIELDS[kind])
            if embedded is None:
                found.append(f"template {template.get('name')}: {kind} without {WORKFLOW_FIELDS[kind]}")
                continue
            spec_schema = schemas[kind]["properties"]["spec"]
            found += [f"template {template.get('name')}: {p}" for p in problems(spec_schema, embedded)]
        elif kind not in ("Serial", "Parallel", "Suspend"):
            found.append(f"template {template.get('name')}: unknown templateType {kind!r}")
        if kind == "Suspend" and not template.get("deadline"):
            found.append(f"template {template.get('name')}: a Suspend needs a deadline")
    return found


def main(folder, paths):
    schemas = load_schemas(folder)
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        for document in documents:
            kind = document.get("kind")
            if document.get("apiVersion") != "chaos-mesh.org/v1alpha1":
                found = [f"apiVersion {document.get('apiVersion')!r}"]
            elif kind == "Workflow":
                found = check_workflow(schemas, document)
            elif kind in schemas:
                found = problems(schemas[kind], document)
            else:
                found = [f"unknown kind {kind!r}"]
            for problem in found:
                print(f"{path}: {kind}: {problem}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
