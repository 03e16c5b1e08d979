"""Objects as files under one directory: the embedded default store."""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from integrations.storage import ObjectInfo, ObjectNotFound, Served, check_key


class FilesystemStore:
    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def _path(self, key: str) -> Path:
        return self._root / check_key(key)

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Copy beside the target then rename: readers never see a half-written object.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_file(self, key: str, dest: Path) -> None:
        shutil.copyfile(self.local_path(key), dest)

    def copy(self, source: str, target: str) -> None:
        """A hard link where the filesystem allows one: objects are only ever replaced
        (put_file renames a new file into place) or unlinked, never written in place, so
        two keys may share one file."""
        path = self.local_path(source)
        target_path = self._path(target)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target_path.parent, prefix=".upload-")
        os.close(fd)
        try:
            os.unlink(tmp)
            try:
                os.link(path, tmp)
            except OSError:
                shutil.copyfile(path, tmp)
            os.replace(tmp, target_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def stat(self, key: str) -> ObjectInfo:
        path = self.local_path(key)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return ObjectInfo(key=key, size=path.stat().st_size, content_type=content_type)

    def list_keys(self, prefix: str) -> list[str]:
        # Walk only the folder the prefix names: the store holds every upload and rendition.
        folder = prefix.rpartition("/")[0]
        start = self._path(folder) if folder else self._root
        if not start.is_dir():
            return []
        keys = (
            p.relative_to(self._root).as_posix()
            for p in start.rglob("*")
            if p.is_file() and not p.name.startswith(".upload-")
        )
        return sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def read_head(self, key: str, size: int) -> bytes:
        with self.local_path(key).open("rb") as file:
            return file.read(size)

    def upload_url(self, key: str, expires: timedelta, content_type: str, size: int) -> str | None:
        check_key(key)
        return None

    def download_url(self, key: str, expires: timedelta, served: Served) -> str | None:
        check_key(key)
        return None
