"""An oras (Python library) round trip against a running Plaza registry: log in with a Plaza
token, push two files as an artifact, pull them back, compare, then push a second artifact whose
`subject` is the first and find it through the referrers API. Arguments: HOST:PORT TOKEN."""

import filecmp
import hashlib
import os
import sys
import tempfile

import oras.client
import oras.oci
import requests


def main() -> int:
    host, token = sys.argv[1], sys.argv[2]
    client = oras.client.OrasClient(hostname=host, insecure=True)
    client.login(username="ci", password=token, hostname=host)
    with tempfile.TemporaryDirectory() as work:
        os.chdir(work)
        with open("sbom.json", "w") as f:
            f.write('{"bomFormat": "CycloneDX", "specVersion": "1.6"}')
        with open("notes.txt", "w") as f:
            f.write("release notes\n" * 100)
        target = f"{host}/demo/com.example.where2eat:oras-1"
        client.push(target=target, files=["sbom.json:application/vnd.cyclonedx+json", "notes.txt:text/plain"])
        os.mkdir("out")
        pulled = client.pull(target=target, outdir="out")
        names = sorted(os.path.basename(p) for p in pulled)
        assert names == ["notes.txt", "sbom.json"], names
        for name in names:
            assert filecmp.cmp(name, os.path.join("out", name), shallow=False), name
        tags = client.get_tags(f"{host}/demo/com.example.where2eat")
        assert "oras-1" in tags, tags

        # Referrers: attach a signature-like document to the artifact, find it by its subject.
        base = f"http://{host}/v2/demo/com.example.where2eat"
        auth = ("ci", token)
        accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
        raw = requests.get(f"{base}/manifests/oras-1", auth=auth, headers=accept, timeout=30)
        raw.raise_for_status()
        digest = "sha256:" + hashlib.sha256(raw.content).hexdigest()
        assert raw.headers["Docker-Content-Digest"] == digest, raw.headers
        subject = oras.oci.Subject(raw.headers["Content-Type"], digest, len(raw.content))
        with open("sig.json", "w") as f:
            f.write('{"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": []}')
        client.push(
            target=f"{host}/demo/com.example.where2eat:oras-sig",
            files=["sig.json:application/vnd.dsse.envelope.v1+json"],
            subject=subject,
        )
        index = requests.get(f"{base}/referrers/{digest}", auth=auth, timeout=30)
        index.raise_for_status()
        assert index.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json", index.headers
        listed = index.json()["manifests"]
        assert len(listed) == 1, listed
        sig = requests.get(f"{base}/manifests/oras-sig", auth=auth, headers=accept, timeout=30)
        assert listed[0]["digest"] == sig.headers["Docker-Content-Digest"], (listed, sig.headers)
    print("oras round trip: pushed and pulled 2 files; a referrer found by its subject")
    return 0


if __name__ == "__main__":
    sys.exit(main())
