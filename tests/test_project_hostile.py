"""Hostile project files (what fuzz_inputs.py found): each is refused with a ProjectFileError, or
repaired with a warning when nothing is lost; none raises anything else or stalls."""
import json

import pytest

from core import project
from core.errors import ProjectFileError
from core.project import load_project, save_project, song_to_dict
from tests.helpers_song import rich_song


def write(tmp_path, doc, name="p.lstudio"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, allow_nan=True))
    return path


@pytest.mark.parametrize("edit", [
    lambda d: d["tempos"][0].__setitem__(1, 10 ** 400),
    lambda d: d["sections"][0].__setitem__("start", 10 ** 400),
    lambda d: d["tracks"][0].__setitem__("volume", -(10 ** 400)),
    lambda d: d["clips"][0]["notes"][next(iter(d["clips"][0]["notes"]))][0].__setitem__(2, 10 ** 400),
    lambda d: d["clips"][0].__setitem__("latent", [10 ** 400]),
    lambda d: d["sections"][0].__setitem__("length", float("nan")),
    lambda d: d["loop"].__setitem__(1, float("inf")),
])
def test_numbers_a_float_cannot_hold_are_refused(tmp_path, edit):
    doc = song_to_dict(rich_song())
    doc["loop"] = [0.0, 4.0]
    edit(doc)
    with pytest.raises(ProjectFileError, match="damaged.*(finite|not a number)"):
        load_project(write(tmp_path, doc))


def test_a_clip_used_by_a_million_sections_is_refused_quickly(tmp_path):
    doc = song_to_dict(rich_song())
    clip = doc["clips"][0]["id"]
    doc["sections"] = [{"id": f"s{i}", "label": "v", "clip_id": clip, "start": float(i), "length": 1.0}
                       for i in range(1_000_000)]
    with pytest.raises(ProjectFileError, match="1,000,000 sections, more than the 20,000"):
        load_project(write(tmp_path, doc))
    doc["sections"] = doc["sections"][:project.MAX_SECTIONS]
    assert len(load_project(write(tmp_path, doc)).sections) == project.MAX_SECTIONS


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = save_project(rich_song(), tmp_path / "big.lstudio")
    monkeypatch.setattr(project, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ProjectFileError, match="more than a project can be"):
        load_project(path)


def test_deep_nesting_is_refused(tmp_path):
    path = tmp_path / "deep.lstudio"
    path.write_text('{"format": "latent-studio-project", "schema": 1, "title": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(ProjectFileError, match="damaged"):
        load_project(path)


def test_repeated_section_ids_are_repaired_with_a_warning(tmp_path):
    doc = song_to_dict(rich_song())
    doc["sections"][1]["id"] = doc["sections"][0]["id"]
    warnings = []
    song = load_project(write(tmp_path, doc), warnings)
    ids = [s.id for s in song.sections]
    assert len(ids) == len(set(ids)) == len(doc["sections"])
    assert any("repeated the id" in w for w in warnings)
