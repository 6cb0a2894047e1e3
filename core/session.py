"""What the musician has chosen, apart from the song itself: the session.

The Song holds the music; the Session holds the choices made while working on it, which no
file keeps and no undo step records:

- the clip selection: clip ids in the order they were picked (interpolation runs from the
  first to the second), with a *current* clip, the one the piano roll shows. As in napari's
  `Selection`, the current item need not be selected: choosing a section on the timeline shows
  its clip without changing what the library has selected;
- the chosen model (a name from the model service), used by Generate and by the timeline's Fill;
- the tracks the piano roll shows and the one it edits.

Every panel reads these from here and writes them here; none of them relays them to another.
Listeners subscribe with `subscribe(callback)` and are called as `callback(event, **details)`
once per change, after the change. Events name what changed:

    "selection"       clip_ids: the selected ids, in picking order
    "current_clip"    clip_id: the clip shown (None when the song has no clip)
    "model"           name: the chosen model (None when none is chosen)
    "visible_tracks"  track_ids: the shown tracks, in song order
    "edit_track"      track_id: the edited track (None when the song has no track)

Bound methods are held weakly (a closed panel is never called); functions and lambdas are held
until unsubscribed. The session follows the song: a clip removed from the song leaves the
selection, a removed track leaves the shown tracks, and when the shown clip goes another one
is shown (the first used by the arrangement, else the first in the library).

No Qt here: the widgets subscribe to the session like they subscribe to the song.
"""
from __future__ import annotations

import weakref
from typing import Callable, Iterable, Iterator

from core.song import Song

EVENTS = ("selection", "current_clip", "model", "visible_tracks", "edit_track")


class Listeners:
    """Callbacks called as callback(event, **details); bound methods are held weakly."""

    def __init__(self) -> None:
        self._entries: list[tuple[object, frozenset | None]] = []

    @staticmethod
    def _ref(callback: Callable):
        if getattr(callback, "__self__", None) is not None and hasattr(callback, "__func__"):
            return weakref.WeakMethod(callback)
        return lambda: callback  # a plain function: kept until removed

    def add(self, callback: Callable, events: Iterable[str] | None = None) -> None:
        wanted = None
        if events is not None:
            wanted = frozenset(events)
            unknown = wanted - set(EVENTS)
            if unknown:
                raise ValueError(f"unknown session event(s): {', '.join(sorted(unknown))}")
        self._entries.append((self._ref(callback), wanted))

    def remove(self, callback: Callable) -> None:
        self._entries = [(ref, wanted) for ref, wanted in self._entries
                         if ref() is not None and ref() != callback]

    def __len__(self) -> int:
        self._entries = [(ref, wanted) for ref, wanted in self._entries if ref() is not None]
        return len(self._entries)

    def emit(self, event: str, **details) -> None:
        for ref, wanted in list(self._entries):
            callback = ref()
            if callback is None:  # its object was garbage-collected
                self._drop(ref)
                continue
            if wanted is not None and event not in wanted:
                continue
            try:
                callback(event, **details)
            except RuntimeError as exc:
                # a widget whose C++ side Qt has already deleted: forget it, as if collected
                if "already deleted" not in str(exc):
                    raise
                self._drop(ref)

    def _drop(self, ref) -> None:
        self._entries = [e for e in self._entries if e[0] is not ref]


class Selection:
    """An ordered selection with a current item.

    `select` replaces (or with additive=True, extends) the selection and makes its last item
    current; `current` can also be set alone. `changed(what)` is called once per change with
    "selection" and/or "current".
    """

    def __init__(self, changed: Callable[[str], None] | None = None) -> None:
        self._items: list[str] = []
        self._current: str | None = None
        self._changed = changed or (lambda _what: None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item) -> bool:
        return item in self._items

    @property
    def items(self) -> list[str]:
        return list(self._items)

    @property
    def current(self) -> str | None:
        return self._current

    @current.setter
    def current(self, item: str | None) -> None:
        if item != self._current:
            self._current = item
            self._changed("current")

    def select(self, items: Iterable[str], additive: bool = False) -> None:
        new = list(dict.fromkeys(items))
        if additive:
            new = [i for i in self._items if i not in new] + new
        if new != self._items:
            self._items = new
            self._changed("selection")
        if new and new[-1] != self._current:
            self.current = new[-1]

    def discard(self, items: Iterable[str]) -> None:
        """Unselect these items (the current item stays current)."""
        gone = set(items)
        kept = [i for i in self._items if i not in gone]
        if kept != self._items:
            self._items = kept
            self._changed("selection")

    def clear(self) -> None:
        self.discard(list(self._items))


class Session:
    """The musician's choices for one open song (see the module docstring)."""

    def __init__(self, song: Song) -> None:
        self.song = song
        self._listeners = Listeners()
        self.clips = Selection(self._selection_changed)
        self._model: str | None = None
        self._hidden: set[str] = set()
        self._shown: list[str] | None = None  # the visible tracks last announced
        self._edit_track: str | None = None
        self._shown = self.visible_tracks
        self._choose_edit_track()
        self._choose_current_clip()
        song.subscribe(self._on_song)

    # ----------------------------------------------------------------- listeners
    def subscribe(self, callback: Callable, events: Iterable[str] | None = None) -> None:
        """Call callback(event, **details) after each change (only `events`, when given)."""
        self._listeners.add(callback, events)

    def unsubscribe(self, callback: Callable) -> None:
        self._listeners.remove(callback)

    def listener_count(self) -> int:
        """How many listeners are still alive (the dead ones are forgotten on the way)."""
        return len(self._listeners)

    def _emit(self, event: str, **details) -> None:
        self._listeners.emit(event, **details)

    def _selection_changed(self, what: str) -> None:
        if what == "selection":
            self._emit("selection", clip_ids=self.clips.items)
        else:
            self._emit("current_clip", clip_id=self.clips.current)

    # ----------------------------------------------------------------- clips
    @property
    def current_clip(self) -> str | None:
        """The clip the piano roll shows."""
        return self.clips.current

    @current_clip.setter
    def current_clip(self, clip_id: str | None) -> None:
        if clip_id is not None and clip_id not in self.song.clips:
            raise KeyError(clip_id)
        self.clips.current = clip_id

    def show_clip(self, clip_id: str) -> bool:
        """Make a clip of the song the current one; False (nothing changes) for an unknown id."""
        if clip_id not in self.song.clips:
            return False
        self.clips.current = clip_id
        return True

    @property
    def selected_clips(self) -> list[str]:
        return self.clips.items

    def select_clips(self, clip_ids: Iterable[str], additive: bool = False) -> None:
        """Select clips of the song (unknown ids are left out); the last one becomes current."""
        self.clips.select([c for c in clip_ids if c in self.song.clips], additive)

    def _choose_current_clip(self) -> None:
        """Show another clip when the shown one is gone: one the arrangement uses, else the first."""
        clips = self.song.clips
        if self.clips.current in clips:
            return
        used = [s.clip_id for s in self.song.sections if s.clip_id in clips]
        self.clips.current = (used or list(clips) or [None])[0]

    # ----------------------------------------------------------------- model
    @property
    def model(self) -> str | None:
        """The name of the chosen model."""
        return self._model

    @model.setter
    def model(self, name: str | None) -> None:
        name = name or None
        if name != self._model:
            self._model = name
            self._emit("model", name=name)

    # ----------------------------------------------------------------- tracks
    @property
    def visible_tracks(self) -> list[str]:
        """The tracks the piano roll shows, in song order (new tracks are shown)."""
        return [t.id for t in self.song.tracks if t.id not in self._hidden]

    def set_visible_tracks(self, track_ids: Iterable[str]) -> None:
        """Show exactly these tracks (and the edited one, which is always shown)."""
        wanted = set(track_ids) | ({self._edit_track} if self._edit_track else set())
        self._set_hidden({t.id for t in self.song.tracks if t.id not in wanted})

    def set_track_visible(self, track_id: str, visible: bool) -> None:
        """Show or hide one track; hiding the edited track is refused (returns quietly)."""
        if visible:
            self._set_hidden(self._hidden - {track_id})
        elif track_id != self._edit_track:
            self._set_hidden(self._hidden | {track_id})

    def _set_hidden(self, hidden: set[str]) -> None:
        self._hidden = hidden
        now = self.visible_tracks
        if now != self._shown:  # hidden, shown, or a track added or removed
            self._shown = now
            self._emit("visible_tracks", track_ids=now)

    @property
    def edit_track(self) -> str | None:
        """The track whose notes the piano roll edits."""
        return self._edit_track

    @edit_track.setter
    def edit_track(self, track_id: str | None) -> None:
        if track_id is not None:
            self.song.track(track_id)  # KeyError for a track the song does not have
        if track_id != self._edit_track:
            self._edit_track = track_id
            self._emit("edit_track", track_id=track_id)
        if track_id in self._hidden:
            self._set_hidden(self._hidden - {track_id})  # the edited track is always shown

    def _choose_edit_track(self) -> None:
        ids = [t.id for t in self.song.tracks]
        if self._edit_track in ids:
            return
        pitched = [t.id for t in self.song.tracks if not t.is_drum]
        self.edit_track = (pitched or ids or [None])[0]

    # ----------------------------------------------------------------- following the song
    def _on_song(self, event: str, **details) -> None:
        if event == "reset":  # another song: its tracks all shown, its first pitched one edited
            self._edit_track = None
            self._shown = None  # announced again, whatever they are
            self._set_hidden(set())
            self._choose_edit_track()
            self.clips.discard([c for c in self.clips if c not in self.song.clips])
            self._choose_current_clip()
        elif event == "tracks":
            known = {t.id for t in self.song.tracks}
            self._set_hidden(self._hidden & known)
            if self._edit_track not in known:
                self._edit_track = None
                self._choose_edit_track()
                if self._edit_track is None:
                    self._emit("edit_track", track_id=None)
        elif event == "clip_removed":
            self.clips.discard([details.get("clip_id")])
            self._choose_current_clip()
        elif event == "clip_added" and self.clips.current is None:
            self._choose_current_clip()
