"""Pack FER2013 small enough to travel with the repository to a GPU machine, and unpack it there.

The zip stores its 35,887 JPEGs uncompressed (62 MB), and every 48x48 JPEG repeats the same ~600 bytes of tables.
A solid xz archive of the same files shares those bytes across files: ~44 MB, which with the wheels the GPU
machine lacks fits a 64 MiB transfer limit that the zip itself does not. Unpacked, it is the image folder that
``occlubench`` reads like the zip (same files, same ids ``train/<class>/<file>.jpg``, same pixels).

    python benchmarks/gpu_payload.py pack ../shared/data/fer2013.zip benchmarks/.gpu_payload/fer2013.tar.xz
    python benchmarks/gpu_payload.py unpack benchmarks/.gpu_payload/fer2013.tar.xz /tmp/fer2013
"""

from __future__ import annotations

import argparse
import io
import lzma
import tarfile
import zipfile
from pathlib import Path


def pack(zip_path: Path, archive: Path) -> int:
    """Write every file of ``zip_path`` into the xz-compressed tar ``archive``; returns the number of files."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    temporary = archive.with_name(archive.name + ".tmp")
    count = 0
    with zipfile.ZipFile(zip_path) as source, lzma.open(temporary, "wb", preset=6) as xz:
        with tarfile.open(fileobj=xz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for info in source.infolist():
                if info.is_dir():
                    continue
                data = source.read(info)
                entry = tarfile.TarInfo(info.filename)
                entry.size, entry.mtime, entry.mode = len(data), 0, 0o644
                tar.addfile(entry, io.BytesIO(data))
                count += 1
    temporary.replace(archive)
    return count


def unpack(archive: Path, folder: Path) -> int:
    """Extract ``archive`` into ``folder`` (an image folder: ``train/<class>/...``, ``test/<class>/...``)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, mode="r:xz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        tar.extractall(folder, members=members, filter="data")
    return len(members)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="fer2013.zip -> fer2013.tar.xz")
    packing.add_argument("zip", type=Path)
    packing.add_argument("archive", type=Path)
    unpacking = commands.add_parser("unpack", help="fer2013.tar.xz -> an image folder")
    unpacking.add_argument("archive", type=Path)
    unpacking.add_argument("folder", type=Path)
    args = parser.parse_args()
    if args.command == "pack":
        count = pack(args.zip, args.archive)
        print(f"packed {count} files into {args.archive} ({args.archive.stat().st_size / 2**20:.1f} MiB)")
    else:
        count = unpack(args.archive, args.folder)
        print(f"unpacked {count} files into {args.folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
