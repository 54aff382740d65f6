"""The C allocator during a run (siting.engine.memory): glibc's thresholds set for the run and set back after it,
nothing changed where the user tuned malloc or the C library is not glibc."""

from __future__ import annotations

import ctypes
import os
import threading

import pytest

import siting
from siting.engine import memory
from siting.engine.memory import AFTER_SETTINGS, RUN_SETTINGS, freed_memory_kept


class Recorder:
    """Stands in for glibc: records mallopt and malloc_trim calls."""

    def __init__(self):
        self.calls = []

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


RUN = [("mallopt", p, v) for p, v in RUN_SETTINGS.items()]
AFTER = [("mallopt", p, v) for p, v in AFTER_SETTINGS.items()] + [("malloc_trim", 0)]


def test_settings_for_the_run_and_back_after_it():
    lib = Recorder()
    with freed_memory_kept(libc=lib, environ={}) as applied:
        assert applied and lib.calls == RUN
    assert lib.calls == RUN + AFTER
    # the trim threshold during the run is far above glibc's dynamic one, and set back to it after
    assert RUN_SETTINGS[memory.M_TRIM_THRESHOLD] > AFTER_SETTINGS[memory.M_TRIM_THRESHOLD] \
        == 2 * RUN_SETTINGS[memory.M_MMAP_THRESHOLD]


def test_nested_and_failing_runs_set_back_once_at_the_end():
    lib = Recorder()
    with pytest.raises(RuntimeError):
        with freed_memory_kept(libc=lib, environ={}):
            with freed_memory_kept(libc=lib, environ={}):  # the sea run inside a run, or a second thread's run
                assert lib.calls == RUN
            assert lib.calls == RUN
            raise RuntimeError("a tile failed")
    assert lib.calls == RUN + AFTER


def test_threads_running_at_once_share_one_setting():
    lib = Recorder()
    inside, release = threading.Barrier(3), threading.Event()

    def run():
        with freed_memory_kept(libc=lib, environ={}):
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert lib.calls == RUN
    release.set()
    for t in threads:
        t.join()
    assert lib.calls == RUN + AFTER


@pytest.mark.parametrize("env", [{"MALLOC_TRIM_THRESHOLD_": "0"}, {"MALLOC_ARENA_MAX": "2"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}])
def test_the_users_own_malloc_settings_are_kept(env):
    lib = Recorder()
    with freed_memory_kept(libc=lib, environ=env) as applied:
        assert not applied
    assert lib.calls == []
    assert not memory.user_tuned({"GLIBC_TUNABLES": "glibc.rtld.nns=2"})


def test_other_c_libraries_are_left_alone(monkeypatch):
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    with freed_memory_kept(environ={}) as applied:
        assert not applied


@pytest.mark.skipif(not os.confstr_names.get("CS_GNU_LIBC_VERSION")
                    or not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"), reason="glibc only")
def test_a_run_applies_them_on_glibc(monkeypatch):
    """An assessment runs its tiles inside the settings, with the real glibc (which accepts every value)."""
    assert memory._glibc() is not None
    seen = []
    real = memory._glibc()

    class Checked:
        def mallopt(self, param, value):
            ok = real.mallopt(ctypes.c_int(param), ctypes.c_int(value))
            seen.append((param, ok))
            return ok

        def malloc_trim(self, pad):
            return real.malloc_trim(ctypes.c_size_t(pad))

    monkeypatch.setattr(memory, "_glibc", lambda: Checked())
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_",
                 "MALLOC_ARENA_MAX", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    a = siting.assess("柳州", tech="pv", resolution_m=5000, draws=0)
    assert a.counties["usable_pv_km2"].sum() > 0
    assert [p for p, _ in seen] == list(RUN_SETTINGS) + list(AFTER_SETTINGS)
    assert all(ok == 1 for _, ok in seen)


def test_objects_made_before_a_run_are_left_out_of_collections_during_it():
    import gc
    import weakref

    from siting.engine.memory import objects_frozen

    class Node:
        pass

    assert gc.get_freeze_count() == 0
    before = Node()
    before.self = before  # a cycle that exists when the run starts
    gone_before = weakref.ref(before)
    del before
    with objects_frozen() as frozen:
        assert frozen and gc.get_freeze_count() > 0
        with objects_frozen() as inner:  # nested: one freeze, undone once
            assert inner
        assert gc.get_freeze_count() > 0
        during = Node()
        during.self = during  # made during the run: collected as usual
        gone_during = weakref.ref(during)
        del during
        gc.collect()
        assert gone_during() is None and gone_before() is not None
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone_before() is None


def test_a_callers_own_freeze_is_left_alone():
    import gc

    from siting.engine.memory import objects_frozen

    gc.freeze()
    try:
        n = gc.get_freeze_count()
        with objects_frozen() as frozen:
            assert not frozen
        assert gc.get_freeze_count() == n
    finally:
        gc.unfreeze()
