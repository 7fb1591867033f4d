#!/usr/bin/env python3
"""Writes crates/plaza-supply/tests/osv/oracle.tsv: OSV match queries over ../shared/data/osv with
the expected advisory ids computed by an implementation independent of Plaza's Rust code.

The oracle follows the OSV schema's "Evaluation" pseudocode literally, with orderings taken from
third-party libraries: PyPI with `packaging` 21.3's `parse` (PEP 440 `Version`, or `LegacyVersion`
for invalid strings -- what osv.dev does), Go with `semver` (SemVer 2.0; Go's `v` and build
metadata stripped before parsing). `GIT` ranges are ignored, withdrawn records match nothing, a
`versions` entry matches when it is equal to the queried version under the ecosystem's ordering.

Run: "$(scripts/ensure-osv-oracle)" scripts/osv-oracle-queries.py
Columns: ecosystem, package name as queried, version as queried, expected ids (comma-separated,
sorted; empty for none).
"""

import glob
import hashlib
import json
import os
import re
import sys

import packaging.version as pv
import semver

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "osv")
OUT = os.path.join(ROOT, "crates", "plaza-supply", "tests", "osv", "oracle.tsv")
ORDER_OUT = os.path.join(ROOT, "crates", "plaza-supply", "tests", "osv", "pypi-order.txt")
PER_ECOSYSTEM = 3000


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def go_parse(v):
    v = v[1:] if v.startswith("v") else v
    v = v.split("+", 1)[0]
    try:
        return semver.Version.parse(v)
    except ValueError:
        return None


def parse(eco, v):
    return pv.parse(v) if eco == "PyPI" else go_parse(v)


def in_range(eco, q, events):
    limits = [e["limit"] for e in events if "limit" in e]
    if limits:
        if not any("*" in l or q < parse(eco, l) for l in limits):
            return False
    evs = [e for e in events if "limit" not in e]

    def key(e):
        (k, v), = e.items()
        if k == "introduced" and v == "0":
            return (0, 0)
        return (1, parse(eco, v))

    if any(key(e)[0] == 1 and key(e)[1] is None for e in evs):
        return False
    vulnerable = False
    for e in sorted(evs, key=key):
        (k, v), = e.items()
        if k == "introduced" and (v == "0" or q >= parse(eco, v)):
            vulnerable = True
        elif k == "fixed" and q >= parse(eco, v):
            vulnerable = False
        elif k == "last_affected" and q > parse(eco, v):
            vulnerable = False
    return vulnerable


def affected_by(eco, q_raw, aff):
    q = parse(eco, q_raw)
    for listed in aff.get("versions", []):
        if listed == q_raw or (q is not None and parse(eco, listed) == q):
            return True
    if q is None:
        return False
    for r in aff.get("ranges", []):
        want = "ECOSYSTEM" if eco == "PyPI" else "SEMVER"
        if r["type"] == want and in_range(eco, q, r["events"]):
            return True
    return False


def go_candidates(v):
    out = {v, "v" + v}
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(.*)", v)
    if m:
        a, b, c, rest = int(m[1]), int(m[2]), int(m[3]), m[4]
        out.add(f"v{a}.{b}.{c + 1}{rest}")
        if c > 0:
            out.add(f"v{a}.{b}.{c - 1}")
        if not rest:
            out.add(f"v{a}.{b}.{c}-0.20000101000000-abcdefabcdef")
            out.add(f"v{a}.{b}.{c}+incompatible")
            out.add(f"v{a}.{b}.{c}-rc.1")
    return out


def pypi_candidates(v):
    return {v, v + ".post1", v + ".dev0", v + "rc1", v.upper(), v.replace("rc", "-rc"), v + "+local.1"}


def stable_hash(s):
    return hashlib.sha256(s.encode()).hexdigest()


def main():
    records = []
    for f in sorted(glob.glob(os.path.join(DATA, "*", "*.json"))):
        with open(f, encoding="utf-8") as fh:
            records.append(json.load(fh))
    by_pkg = {}
    for d in records:
        for a in d.get("affected", []):
            p = a.get("package")
            if not p:
                continue
            eco = p["ecosystem"]
            name = pep503(p["name"]) if eco == "PyPI" else p["name"]
            by_pkg.setdefault((eco, name), []).append((d, a, p["name"]))

    special = {"github.com/coder/coder/v2", "github.com/mattermost/mattermost-server", "py",
               "binderhub", "steam", "jw-util"}
    queries = {"Go": [], "PyPI": []}
    for (eco, name), entries in sorted(by_pkg.items()):
        cands = set()
        written = set()
        for d, a, raw_name in entries:
            written.add(raw_name)
            for r in a.get("ranges", []):
                if r["type"] == "GIT":
                    continue
                for e in r["events"]:
                    (k, v), = e.items()
                    if v == "0":
                        continue
                    cands |= go_candidates(v) if eco == "Go" else pypi_candidates(v)
            for v in a.get("versions", []):
                cands |= {v} if eco == "Go" else pypi_candidates(v)
        cands.add("v0.0.1" if eco == "Go" else "0.0.1")
        ordered = sorted(cands, key=lambda v: stable_hash(f"{eco}/{name}/{v}"))
        take = len(ordered) if name in special else 4
        names = sorted(written | ({name.upper(), name.replace("-", "_")} if eco == "PyPI" else set()))
        for i, v in enumerate(ordered[:take]):
            qname = names[i % len(names)]
            queries[eco].append((name in special, eco, qname, name, v))

    lines = []
    for eco, qs in queries.items():
        qs.sort(key=lambda q: (not q[0], stable_hash("/".join(q[1:]))))
        for _, eco, qname, name, v in qs[:PER_ECOSYSTEM]:
            ids = sorted({d["id"] for d, a, _ in by_pkg[(eco, name)]
                          if "withdrawn" not in d and affected_by(eco, v, a)})
            lines.append(f"{eco}\t{qname}\t{v}\t{','.join(ids)}")
    lines.sort()
    with open(OUT, "w", encoding="utf-8") as fh:
        fh.write("# Generated by scripts/osv-oracle-queries.py (independent oracle); do not edit.\n")
        fh.write("# ecosystem\tname\tversion\texpected ids\n")
        fh.write("\n".join(lines) + "\n")
    print(f"{len(lines)} queries -> {OUT}", file=sys.stderr)
    write_pypi_order(records)


def write_pypi_order(records):
    """Every PyPI version string of the data (plus respellings of a sample), in packaging's order;
    a line "= V" is equal to the line before it."""
    vs = set()
    for d in records:
        for a in d.get("affected", []):
            if a.get("package", {}).get("ecosystem") != "PyPI":
                continue
            vs.update(a.get("versions", []))
            for r in a.get("ranges", []):
                if r["type"] != "GIT":
                    for e in r["events"]:
                        vs.update(e.values())
    sample = sorted(vs, key=stable_hash)[:1500]
    for v in sample:
        vs.update({v.upper(), "v" + v, v + ".0", " " + v + " ", v.replace(".", "_", 1),
                   v + "-1", v + "_post2", v + "-dev", v + "+Ubuntu-1"})
    ordered = sorted(vs, key=lambda v: (pv.parse(v), v))
    out = []
    prev = None
    for v in ordered:
        if "\t" in v or "\n" in v:
            continue
        p = pv.parse(v)
        out.append(("= " if prev is not None and p == prev else "") + v)
        prev = p
    with open(ORDER_OUT, "w", encoding="utf-8") as fh:
        fh.write("# Generated by scripts/osv-oracle-queries.py: PyPI versions in packaging 21.3's order; do not edit.\n")
        fh.write("# A line '= V' is equal to the line before.\n")
        fh.write("\n".join(out) + "\n")
    print(f"{len(out)} versions -> {ORDER_OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
