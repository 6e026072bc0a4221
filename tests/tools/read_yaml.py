#!/usr/bin/env python3
"""Reads YAML files the way PyYAML (a YAML 1.1 parser, like go-yaml in kubectl and compose) does and prints them as
one JSON object {path: [document, ...]}, so a test can check which keys and values a consumer really sees.
Usage: read_yaml.py FILE...
"""
import json
import sys

import yaml


def main(paths):
    out = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            out[path] = list(yaml.safe_load_all(f))
    json.dump(out, sys.stdout, ensure_ascii=False, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])
