#!/usr/bin/env python3
"""Validates Istio networking.istio.io/v1 documents against the Istio CRD models, rejecting unknown fields.

The models come from cloudcoil-models-istio (PyPI), generated from Istio's CRD schemas. They ignore unknown fields by
default; every model class here is switched to forbid them, so a misspelt key fails like `kubectl --validate=strict`
would. Usage: validate_istio.py FILE...; prints one line per problem and exits 1 when any document is invalid.
"""
import inspect
import sys

import pydantic
import yaml
from cloudcoil.models.istio.networking import v1

MAX_NESTING = 8


def forbid_unknown_fields(module):
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if issubclass(cls, pydantic.BaseModel) and cls.__module__ == module.__name__:
            cls.model_config["extra"] = "forbid"
    # A model embeds the schemas of the models it contains when it is built, so rebuild until the innermost
    # change has reached the outermost model: as many passes as models nest deep.
    for _ in range(MAX_NESTING):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, pydantic.BaseModel) and cls.__module__ == module.__name__:
                cls.model_rebuild(force=True)


def main(paths):
    forbid_unknown_fields(v1)
    kinds = {
        "VirtualService": v1.VirtualService,
        "DestinationRule": v1.DestinationRule,
        "ServiceEntry": v1.ServiceEntry,
        "Gateway": v1.Gateway,
    }
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        if not documents:
            print(f"{path}: no documents")
            failed = True
        for index, document in enumerate(documents):
            where = f"{path}: document {index + 1}"
            if document.get("apiVersion") != "networking.istio.io/v1":
                print(f"{where}: apiVersion {document.get('apiVersion')!r} is not networking.istio.io/v1")
                failed = True
                continue
            model = kinds.get(document.get("kind"))
            if model is None:
                print(f"{where}: unknown kind {document.get('kind')!r}")
                failed = True
                continue
            try:
                model.model_validate(document)
            except pydantic.ValidationError as error:
                failed = True
                for problem in error.errors():
                    location = ".".join(str(p) for p in problem["loc"])
                    print(f"{where} ({document['kind']}): {location}: {problem['msg']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
