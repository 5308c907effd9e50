"""Reproducible .tar.gz archives for the release: the same inputs give the same
bytes, whoever builds them and whenever (names sorted, owner 0, fixed modes,
every time stamp SOURCE_DATE_EPOCH, a gzip header without name or time).

    python tools/release/pack.py plugin OUT.tar.gz FILE...   # FILEs at the archive's root
    python tools/release/pack.py normalize ARCHIVE.tar.gz     # rewrite one in place (the sdist)
"""

from __future__ import annotations

import gzip
import io
import os
import sys
import tarfile
from pathlib import Path


def epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


def clean(info: tarfile.TarInfo, mtime: int) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = mtime
    # Extended headers repeat the original owner and time stamp (setuptools writes them).
    info.pax_headers = {}
    if info.isdir() or info.mode & 0o100:
        info.mode = 0o755
    else:
        info.mode = 0o644
    return info


def write(out: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in sorted(members, key=lambda m: m[0].name):
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as handle:
        with gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0, compresslevel=9) as gz:
            gz.write(raw.getvalue())
    tmp.replace(out)


def plugin(out: Path, files: list[Path]) -> None:
    members = []
    for path in files:
        info = tarfile.TarInfo(path.name)
        data = path.read_bytes()
        info.size = len(data)
        info.mode = path.stat().st_mode
        members.append((clean(info, epoch()), data))
    write(out, members)


def normalize(archive: Path) -> None:
    members = []
    with tarfile.open(archive, "r:gz") as tar:
        for info in tar.getmembers():
            data = tar.extractfile(info).read() if info.isfile() else None
            members.append((clean(info, epoch()), data))
    write(archive, members)


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "plugin":
        plugin(Path(argv[1]), [Path(a) for a in argv[2:]])
    elif len(argv) == 2 and argv[0] == "normalize":
        normalize(Path(argv[1]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
