"""An oras (Python library) round trip against a running Plaza registry: log in with a Plaza
token, push two files as an artifact, pull them back, compare. Arguments: HOST:PORT TOKEN."""

import filecmp
import os
import sys
import tempfile

import oras.client


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
    print("oras round trip: pushed and pulled 2 files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
