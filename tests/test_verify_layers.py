"""Saved-image analysis on synthetic layer tars: dive's numbers and the final filesystem."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from dockopt.verify.layers import (
    dive_stats,
    final_filesystem,
    history_layers,
    image_stats,
    read_layer,
    read_saved_image,
    resolve,
)


def layer(*entries, gz: bool = False) -> list:
    """Build a layer tar in memory and read it back as members.

    entries: ("f", path, bytes[, mode]) file, ("d", path) dir, ("s", path, target) symlink,
    ("h", path, target) hard link, ("w", path) whiteout of path, ("o", dir) opaque marker.
    """
    return read_layer(io.BytesIO(layer_bytes(*entries, gz=gz)))


def layer_bytes(*entries, gz: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for kind, path, *rest in entries:
            name = path.lstrip("/")
            if kind == "f":
                data = rest[0]
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = rest[1] if len(rest) > 1 else 0o644
                tar.addfile(info, io.BytesIO(data))
                continue
            info = tarfile.TarInfo(name)
            if kind == "d":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "s":
                info.type, info.linkname = tarfile.SYMTYPE, rest[0]
            elif kind == "h":
                info.type, info.linkname = tarfile.LNKTYPE, rest[0].lstrip("/")
            elif kind == "w":
                parent, _, base = name.rpartition("/")
                info.name = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
            elif kind == "o":
                info.name = f"{name}/.wh..wh..opq"
            tar.addfile(info)
    return buf.getvalue()


def test_file_rewritten_in_a_later_layer_wastes_all_its_copies():
    layers = [layer(("f", "/a", b"x" * 100), ("f", "/b", b"y" * 50)),
              layer(("f", "/a", b"z" * 200))]
    stats = dive_stats(layers)
    # dive counts every copy of a duplicated path, the surviving one included
    assert stats.wasted_bytes == 300
    assert stats.efficiency == pytest.approx((100 + 50) / (300 + 50))
    assert [(w.path, w.bytes, w.copies) for w in stats.inefficiencies] == [("/a", 300, 2)]
    assert stats.layer_sizes == (150, 200)
    assert stats.wasted_user_ratio == pytest.approx(300 / 200)


def test_whiteout_of_a_file_counts_as_removal():
    layers = [layer(("f", "/big", b"0" * 1000), ("f", "/keep", b"k" * 10)),
              layer(("w", "/big"), ("f", "/done", b"ok"))]
    stats = dive_stats(layers)
    assert stats.wasted_bytes == 1000
    assert stats.efficiency == pytest.approx((0 + 10 + 2) / (1000 + 10 + 2))
    files, visible = final_filesystem(layers)
    assert "/big" not in files and set(files) == {"/keep", "/done"}
    assert visible == 12
    assert stats.total_bytes - visible == 1000      # hidden by the later layer


def test_whiteout_of_a_directory_follows_dive():
    # dive sizes a removed directory by everything under it, but the directory
    # was no leaf in the lower layer, so the path is seen once: no "waste".
    layers = [layer(("d", "/d"), ("f", "/d/x", b"x" * 30), ("f", "/d/y", b"y" * 70)),
              layer(("w", "/d"))]
    stats = dive_stats(layers)
    assert stats.wasted_bytes == 0
    assert stats.efficiency == 1.0
    files, visible = final_filesystem(layers)
    assert files == {}
    assert stats.total_bytes - visible == 100       # our own measure does see it


def test_files_removed_one_by_one_from_a_directory_are_waste():
    layers = [layer(("d", "/d"), ("f", "/d/x", b"x" * 30), ("f", "/d/y", b"y" * 70)),
              layer(("d", "/d"), ("w", "/d/x"), ("w", "/d/y"))]
    stats = dive_stats(layers)
    assert stats.wasted_bytes == 100
    assert final_filesystem(layers)[0].keys() == {"/d"}


def test_opaque_directory_hides_lower_content_but_dive_skips_the_marker():
    layers = [layer(("d", "/d"), ("f", "/d/x", b"x" * 30)),
              layer(("d", "/d"), ("o", "/d"), ("f", "/d/z", b"z" * 5))]
    stats = dive_stats(layers)
    assert stats.wasted_bytes == 0
    files, _ = final_filesystem(layers)
    assert set(files) == {"/d", "/d/z"}


def test_empty_directory_in_two_layers_costs_nothing():
    stats = dive_stats([layer(("d", "/e")), layer(("d", "/e"))])
    assert stats.wasted_bytes == 0
    assert stats.efficiency == 1.0
    assert [w.path for w in stats.inefficiencies] == ["/e"]


def test_no_layers_at_all():
    stats = dive_stats([])
    assert (stats.wasted_bytes, stats.efficiency, stats.wasted_user_ratio) == (0, 1.0, 0.0)


def test_final_filesystem_entries():
    layers = [layer(("d", "/usr"), ("d", "/usr/bin"), ("f", "/usr/bin/busybox", b"BB", 0o4755),
                    ("s", "/bin", "usr/bin"), ("s", "/usr/bin/sh", "busybox"),
                    ("h", "/usr/bin/ls", "/usr/bin/busybox"))]
    files, visible = final_filesystem(layers)
    bb = files["/usr/bin/busybox"]
    assert (bb.kind, bb.mode, bb.size, bb.digest) == ("file", 0o4755, 2, hashlib.sha256(b"BB").hexdigest())
    assert files["/bin"].kind == "symlink" and files["/bin"].link == "usr/bin"
    ls = files["/usr/bin/ls"]
    assert ls.kind == "file" and ls.digest == bb.digest and ls.size == 2
    assert visible == 2                      # the hard link stores no bytes of its own
    assert resolve(files, "/bin/sh") == bb   # through /bin -> usr/bin and sh -> busybox
    assert resolve(files, "/bin/nothere") is None


def test_directory_replaced_by_file_hides_its_children():
    layers = [layer(("d", "/x"), ("f", "/x/a", b"a")),
              layer(("w", "/x"), ("f", "/x", b"now a file"))]
    files, _ = final_filesystem(layers)
    assert set(files) == {"/x"} and files["/x"].kind == "file"


def test_symlink_loop_does_not_hang():
    files, _ = final_filesystem([layer(("s", "/a", "b"), ("s", "/b", "a"))])
    assert resolve(files, "/a") is None


def test_compressed_layer_and_dotted_names():
    members = layer(("f", "./etc/x", b"1"), gz=True)
    assert [m.path for m in members] == ["/etc/x"]


def _saved_image(layers: list[bytes], history: list[dict]) -> bytes:
    buf = io.BytesIO()
    config = {"config": {"Cmd": ["sh"]}, "history": history,
              "rootfs": {"type": "layers", "diff_ids": [f"sha256:{i}" for i in range(len(layers))]}}
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        names = []
        for i, data in enumerate(layers):
            names.append(f"l{i}/layer.tar")
            add(names[-1], data)
        # docker save writes a repeated layer once and links to it
        link = tarfile.TarInfo("dup/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../l0/layer.tar"
        tar.addfile(link)
        names.append("dup/layer.tar")
        add("cfg.json", json.dumps(config).encode())
        add("manifest.json", json.dumps([{"Config": "cfg.json", "Layers": names}]).encode())
    return buf.getvalue()


def test_saved_image_history_pairs_layers_like_dive(tmp_path):
    data = _saved_image(
        [layer_bytes(("f", "/a", b"a" * 10)), layer_bytes(("f", "/b", b"b" * 5))],
        [{"created_by": "ADD rootfs"}, {"created_by": "ENV X=1", "empty_layer": True},
         {"created_by": "RUN make b"},
         {"created_by": "/bin/sh -c #(nop)  LABEL org.dockopt.run=abc", "empty_layer": True},
         {"created_by": "COPY a again"}])
    path = tmp_path / "img.tar"
    path.write_bytes(data)
    saved = read_saved_image(path)
    assert len(saved.layers) == 3
    files, visible = final_filesystem(saved.layers)
    stats = image_stats("sha256:x", 999, saved, files, visible, skip_history="LABEL org.dockopt.run=")
    assert [(lay.created_by, lay.size, lay.empty) for lay in stats.layers] == [
        ("ADD rootfs", 10, False), ("ENV X=1", 0, True), ("RUN make b", 5, False), ("COPY a again", 10, False)]
    assert stats.layer_count == 3 and stats.size == 999
    assert stats.wasted_bytes == 20            # /a twice
    assert stats.shadowed_bytes == 10
    assert stats.file_count == 2


def test_history_shorter_than_layers():
    out = history_layers({"history": []}, (5, 6))
    assert [(i.created_by, i.size) for i in out] == [("(missing)", 5), ("(missing)", 6)]
