#!/usr/bin/env python3
"""Checks statements against the in-toto reference bindings (PyPI in-toto-attestation), driven
by crates/plaza-supply/tests/sign/interop.rs.

  intoto_check.py STATEMENT_JSON...
      Parses each file strictly (unknown fields are errors) into the Statement v1 protobuf and
      runs its validate(); SLSA Provenance v1 and VSA v1 predicates are parsed strictly into
      their protobufs too. Prints `ok <file> <predicateType>` per file; exits 1 on the first
      problem, naming it.

in-toto-attestation's VSA v1 proto declares `verifiedLevels` as one string, while the SLSA
spec (https://slsa.dev/spec/v1.0/verification_summary) and its example make it an array of
SlsaResult strings (`SLSA_<track>_LEVEL_<n>` or `FAILED`). Plaza follows the spec: the array is checked here by hand
and the rest of the predicate by the proto.
"""
import re
import json
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

PREDICATES = {
    "https://slsa.dev/provenance/v1": provenance_pb2.Provenance,
    "https://slsa.dev/verification_summary/v1": vsa_pb2.VerificationSummary,
}

for path in sys.argv[1:]:
    doc = json.load(open(path))
    try:
        pb = json_format.ParseDict(doc, statement_pb2.Statement())
        Statement.copy_from_pb(pb).validate()
        schema = PREDICATES.get(doc["predicateType"])
        predicate = dict(doc["predicate"])
        if doc["predicateType"] == "https://slsa.dev/verification_summary/v1":
            levels = predicate.pop("verifiedLevels")
            if not isinstance(levels, list) or not all(
                isinstance(l, str) and re.fullmatch(r"SLSA_[A-Z]+_LEVEL_[0-4]|FAILED", l) for l in levels
            ):
                raise ValueError(f"verifiedLevels {levels!r} is not an array of SlsaResult")
        if schema is not None:
            json_format.ParseDict(predicate, schema())
    except Exception as e:
        print(f"invalid {path}: {type(e).__name__}: {e}")
        sys.exit(1)
    print("ok", path, doc["predicateType"])
