"""The one-pass transcode, the stream-copied master with what the checks read, the ladder
that follows it, and the frame hashes, checked with ffprobe on the outputs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

import activities.media.transcode as transcode_module
from activities.media import tools
from activities.media.hashes import HashList, HashListError, HashLists, hash_frame, hash_image
from activities.media.probe import probe_report
from activities.media.tools import Limits, ToolResult
from activities.media.transcode import Outputs, ladder, prepare, stream_copyable, transcode
from integrations.child_safety import HashSet, write_list
from nexus.settings import MediaSettings
from tests.media import raw_lavfi, video
from workflows.contracts.moderation import MediaInfo

SETTINGS = MediaSettings(x264_preset="ultrafast")
LIMITS = Limits(timeout_s=30, memory_bytes=2 * 1024**3)


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def run(source: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Outputs, int]:
    info = probe_report(source, SETTINGS)[0].info
    assert info is not None
    calls = []
    real = tools.run_tool

    def counting(*args: Any, **kwargs: Any) -> ToolResult:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(transcode_module, "run_tool", counting)
    progress: list[float] = []
    outputs = transcode(source, info, out, SETTINGS, progress.append)
    assert progress
    assert progress[-1] == 1.0
    return outputs, len(calls)


def test_one_ffmpeg_run_makes_every_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = video(tmp_path / "in.mp4", seconds=3, say="hello there")
    outputs, runs = run(source, tmp_path / "out", monkeypatch)
    assert runs == 1  # one decode of the upload

    master = ffprobe(tmp_path / "out" / outputs.master)
    video_stream = next(s for s in master["streams"] if s["codec_type"] == "video")
    audio_stream = next(s for s in master["streams"] if s["codec_type"] == "audio")
    assert (video_stream["codec_name"], video_stream["width"], video_stream["height"]) == (
        "h264",
        360,
        640,
    )
    assert audio_stream["codec_name"] == "aac"
    assert float(master["format"]["duration"]) == pytest.approx(3.0, abs=0.2)

    playlist = (tmp_path / "out" / outputs.hls).read_text()
    assert "RESOLUTION=360x640" in playlist
    assert "RESOLUTION=720x1280" in playlist
    for rung in ("360p", "720p"):
        assert (tmp_path / "out" / "hls" / rung / "seg_000.ts").stat().st_size > 0

    assert len(outputs.thumbnails) == SETTINGS.thumbnails
    sheet = ffprobe(tmp_path / "out" / outputs.contact_sheet)["streams"][0]
    assert (sheet["width"], sheet["height"]) == (540, 640)  # 3 x 2 tiles of 180x320

    wav = ffprobe(tmp_path / "out" / outputs.audio)["streams"][0]
    assert (wav["codec_name"], wav["sample_rate"], wav["channels"]) == ("pcm_s16le", "16000", 1)

    assert len(outputs.frames) == 3  # one a second
    assert outputs.frame_times == [0.0, 1.0, 2.0]


def moov_first(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def test_a_phone_native_upload_is_copied_and_the_checks_read_what_the_transcode_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = video(tmp_path / "phone.mp4", seconds=3, say="sponsored by Glow", show="#ad")
    info = probe_report(source, SETTINGS)[0].info
    assert info is not None
    assert (info.video_profile, info.pix_fmt) == ("Constrained Baseline", "yuv420p")
    assert stream_copyable(info)
    calls: list[list[str]] = []
    real = tools.run_tool

    def counting(*args: Any, **kwargs: Any) -> ToolResult:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(transcode_module, "run_tool", counting)
    progress: list[float] = []
    copied = prepare(source, info, tmp_path / "copy", SETTINGS, progress.append)
    assert len(calls) == 1  # one read of the upload
    assert progress[-1] == 1.0
    full = transcode(source, info, tmp_path / "full", SETTINGS, lambda _: None)

    # The master is the upload's own streams, moov first so players start at once.
    master = tmp_path / "copy" / copied.master
    assert moov_first(master)
    for kind in ("video", "audio"):
        [mine] = [s for s in ffprobe(master)["streams"] if s["codec_type"] == kind]
        [theirs] = [s for s in ffprobe(source)["streams"] if s["codec_type"] == kind]
        for field in ("codec_name", "profile", "bit_rate", "width", "height", "nb_frames"):
            assert mine.get(field) == theirs.get(field), (kind, field)
    # No ladder yet: it follows the decision.
    assert not (tmp_path / "copy" / "hls").exists()

    # What the checks read is the transcode's, byte for byte: the same findings.
    assert (copied.frames, copied.frame_times) == (full.frames, full.frame_times)
    assert copied.thumbnails == full.thumbnails
    for name in [*full.frames, *full.thumbnails, full.audio]:
        assert (tmp_path / "copy" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()

    hls, sheet = ladder(master, info, tmp_path / "copy", SETTINGS, lambda _: None)
    playlist = (tmp_path / "copy" / hls).read_text()
    assert "RESOLUTION=360x640" in playlist
    assert "RESOLUTION=720x1280" in playlist
    for rung in ("360p", "720p"):
        assert (tmp_path / "copy" / "hls" / rung / "seg_000.ts").stat().st_size > 0
    contact = ffprobe(tmp_path / "copy" / sheet)["streams"][0]
    assert (contact["width"], contact["height"]) == (540, 640)


@pytest.mark.parametrize(
    ("change", "copyable"),
    [
        ({}, True),
        ({"audio_codec": None}, True),
        ({"video_profile": "Main"}, True),
        ({"video_codec": "hevc", "video_profile": "Main"}, False),
        ({"video_profile": "High 10"}, False),
        ({"video_profile": None}, False),  # probed before profiles were kept
        ({"pix_fmt": "yuv420p10le"}, False),
        ({"pix_fmt": "yuvj420p"}, False),
        ({"audio_codec": "opus"}, False),
        ({"width": 1088}, False),  # not the master's 9:16 frame
        ({"width": 1920, "height": 1080}, False),
        ({"width": 2160, "height": 3840}, False),  # larger than the master
        ({"fps": 60.0}, False),  # the master runs at 30 at most
    ],
)
def test_only_an_upload_that_is_already_a_master_is_copied(
    change: dict[str, object], copyable: bool
) -> None:
    phone = MediaInfo(
        container="mov,mp4,m4a,3gp,3g2,mj2", size_bytes=1, duration_s=60, width=1080,
        height=1920, fps=30, video_codec="h264", audio_codec="aac", video_profile="High",
        pix_fmt="yuv420p",
    )  # fmt: skip
    assert stream_copyable(phone.model_copy(update=change)) is copyable


def test_a_landscape_silent_video_is_letterboxed_into_9_16(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = video(tmp_path / "wide.mp4", seconds=2, size="640x360", audio=False)
    outputs, _ = run(source, tmp_path / "out", monkeypatch)
    master = ffprobe(tmp_path / "out" / outputs.master)
    video_stream = next(s for s in master["streams"] if s["codec_type"] == "video")
    assert video_stream["width"] * 16 == video_stream["height"] * 9
    # A silent track is added so every output has the same shape.
    assert any(s["codec_type"] == "audio" for s in master["streams"])
    assert (tmp_path / "out" / outputs.audio).stat().st_size > 0


def test_a_frame_of_a_listed_picture_matches_and_others_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = raw_lavfi(tmp_path / "listed.png", "mandelbrot=s=360x640", "-frames:v", "1")
    other = raw_lavfi(tmp_path / "other.png", "testsrc2=s=360x640", "-frames:v", "1")
    hash_list = HashList("test-list", [hash_image(listed, tmp_path, LIMITS).hex])

    source = video(tmp_path / "listed.mp4", seconds=2, image=listed, audio=False)
    outputs, _ = run(source, tmp_path / "out", monkeypatch)
    frame = hash_frame(tmp_path / "out" / outputs.frames[0])
    assert frame.quality >= 50
    distance = hash_list.nearest(frame.hex)
    assert distance is not None
    assert distance <= 31

    unrelated = hash_image(other, tmp_path, LIMITS)
    assert (hash_list.nearest(unrelated.hex) or 0) > 31


def test_a_flat_frame_has_a_low_quality_hash(tmp_path: Path) -> None:
    flat = raw_lavfi(tmp_path / "flat.png", "color=c=gray:s=360x640", "-frames:v", "1")
    assert hash_frame(flat).quality < 50


def test_hash_lists_load_from_text_files(tmp_path: Path) -> None:
    path = tmp_path / "ncmec-sample.txt"
    path.write_text("# test list\n" + "f" * 64 + "\n" + "0" * 64 + ",label\nmd5," + "a" * 32)
    # The MD5 digests a sync writes beside the list are loaded with it.
    (tmp_path / "ncmec-sample.md5.txt").write_text("# synced\nmd5," + "b" * 32 + ",ring\n")
    hash_list = HashList.load(path)
    assert hash_list.name == "ncmec-sample"
    assert hash_list.nearest("f" * 63 + "e") == 1
    assert hash_list.md5 == {"a" * 32, "b" * 32}
    path.write_text("f" * 64 + "\nnot a hash\n")
    with pytest.raises(HashListError, match="line 2"):
        HashList.load(path)


def test_hash_lists_read_a_synced_list_again_when_it_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    configured, synced = tmp_path / "local.txt", tmp_path / "synced" / "threatexchange.txt"
    with pytest.raises(HashListError, match=r"local\.txt"):
        HashLists([configured], synced)  # a configured list must be there at start
    configured.write_text("f" * 64 + "\n")
    lists = HashLists([configured], synced)
    assert [h.name for h in lists.current()] == ["local"]  # nothing synced yet

    synced.parent.mkdir()
    write_list(HashSet(name="threatexchange-1", pdq=("0" * 64,), md5=("a" * 32,)), synced)
    [_, fetched] = lists.current()
    assert (fetched.name, fetched.nearest("0" * 64), fetched.md5) == (
        "threatexchange",
        0,
        frozenset({"a" * 32}),
    )
    synced.write_text("not a hash\n")  # a damaged rewrite: the last good list stays
    assert lists.current()[1] is fetched
    assert "keeping the last good version" in caplog.text
    write_list(HashSet(name="threatexchange-1", md5=("b" * 32,)), synced)
    assert lists.current()[1].md5 == {"b" * 32}


def test_the_cli_prints_hash_list_lines_that_match_the_picture(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nexus.cli import main

    listed = raw_lavfi(tmp_path / "listed.png", "mandelbrot=s=360x640", "-frames:v", "1")
    assert main(["pdq", str(listed)]) == 0
    line = capsys.readouterr().out
    assert re.fullmatch(r"[0-9a-f]{64}  # listed\.png quality=\d+\n", line)
    (tmp_path / "list.txt").write_text(line)
    assert (
        HashList.load(tmp_path / "list.txt").nearest(hash_image(listed, tmp_path, LIMITS).hex) == 0
    )
    assert main(["pdq", str(tmp_path / "missing.png")]) == 1
