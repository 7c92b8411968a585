"""The in-process caches: bounded by bytes, never by entries; the compiled-template cache never
fails a render and never trusts a folder someone else could write to."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.base import plan_doc as example_doc
from wizard import caches
from wizard.caches import ENTRY_OVERHEAD, ByteLRU, per_object
from wizard.plan.engine import assess
from wizard.scripts import bundle, highlight, rendering


def test_a_byte_cache_evicts_the_least_recently_used_entries_when_its_bytes_run_over():
    cache: ByteLRU[str, str] = ByteLRU("test", 40 * 1024)
    for name in "abcd":
        cache.put(name, name, 9 * 1024)
    assert len(cache) == 4
    assert cache.get("a") == "a"          # now the most recently used
    cache.put("e", "e", 9 * 1024)         # 5 x (9 KiB + overhead) > 40 KiB: the oldest goes
    assert cache.get("b") is None
    assert [cache.get(k) for k in "acde"] == list("acde")
    assert cache.bytes == 4 * (9 * 1024 + ENTRY_OVERHEAD) <= cache.max_bytes


def test_a_byte_cache_holds_many_small_entries_and_few_large_ones():
    cache: ByteLRU[int, bytes] = ByteLRU("test", 1024 * 1024)
    for i in range(1000):
        cache.put(i, b"x", 100)
    assert len(cache) == 1000             # an entry count would have stopped long before
    for i in range(1000, 1010):
        cache.put(i, b"x", 200 * 1024)
    assert len(cache) < 10 and cache.bytes <= cache.max_bytes


def test_a_value_bigger_than_a_quarter_of_the_budget_is_not_kept():
    cache: ByteLRU[str, str] = ByteLRU("test", 10_000)
    cache.put("small", "s", 10)
    cache.put("huge", "h", 3000)
    assert cache.get("huge") is None and cache.get("small") == "s"


def test_per_object_memo_answers_by_identity_and_forgets_old_objects():
    calls: list[object] = []

    @per_object(slots=2)
    def double(obj: tuple[int, ...]) -> tuple[int, ...]:
        calls.append(obj)
        return obj + obj

    a, b, c = (1,), (2,), (3,)
    assert double(a) == (1, 1) and double(a) == (1, 1)
    assert len(calls) == 1
    equal_but_other = tuple(int(c) for c in "1")
    double(equal_but_other)               # equal, yet another object: computed again
    assert len(calls) == 2
    double(b), double(c)                  # two slots: a is forgotten
    double(a)
    assert len(calls) == 5


def test_a_render_computes_the_certificate_plan_once_per_plan_object(monkeypatch):
    from wizard.plan import certplan

    calls = []
    original = certplan.certificate_plan.__wrapped__

    def counting(plan):
        calls.append(plan)
        return original(plan)

    monkeypatch.setattr(certplan.certificate_plan, "__wrapped__", counting)
    plan, findings = assess(example_doc())
    certplan.certificate_plan.cache_clear()
    bundle.build_bundle(plan, source=bundle.Source.for_plan(plan), findings=findings)
    # Once for the plan, once for its harmless twin (was 24 times per bundle).
    assert len(calls) <= 2


def test_the_bundle_cache_is_bounded_by_the_bytes_of_the_bundles():
    assert bundle._BUNDLE_CACHE.max_bytes <= 64 * caches.MiB
    plan, findings = assess(example_doc())
    built = bundle.cached_bundle(plan, source=bundle.Source.for_plan(plan), findings=findings)
    assert bundle.bundle_size(built) >= sum(len(b) for b in built.files.values())
    assert bundle.cached_bundle(plan, source=bundle.Source.for_plan(plan), findings=findings) is built


def test_highlighted_files_are_cached_by_bytes_and_answered_again():
    highlight._LINES.clear()
    first = highlight.highlighted_lines("a.ps1", "Write-Host 'x'\n")
    assert highlight._LINES.bytes >= sum(len(line) for line in first)
    assert highlight.highlighted_lines("a.ps1", "Write-Host 'x'\n") is first


# --- the compiled-template cache --------------------------------------------------------------

def _fresh_environment(monkeypatch: pytest.MonkeyPatch, setting: str) -> object:
    monkeypatch.setenv(rendering.TEMPLATE_CACHE_ENV, setting)
    rendering.environment.cache_clear()
    return rendering.environment()


@pytest.fixture(autouse=True)
def _restore_environment():
    yield
    rendering.environment.cache_clear()


def test_compiled_templates_are_kept_in_the_cache_folder_and_used_by_the_next_process(tmp_path, monkeypatch):
    folder = tmp_path / "templates"
    env = _fresh_environment(monkeypatch, str(folder))
    expected = rendering.render_all(assess(example_doc())[0])
    assert env.bytecode_cache is not None
    assert list(folder.glob("wizard-*.cache")), "nothing was written to the cache folder"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # A new environment (as in a new process) loads them, and renders the same bytes.
    _fresh_environment(monkeypatch, str(folder))
    assert rendering.render_all(assess(example_doc())[0]) == expected


def test_a_read_only_cache_folder_only_means_compiling_again(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o700)
    env = _fresh_environment(monkeypatch, str(folder))
    assert env.bytecode_cache is not None

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    # As on a read-only file system (chmod would not stop root): every write fails.
    monkeypatch.setattr("tempfile.NamedTemporaryFile", read_only)
    assert "adfs-server.ps1" in rendering.render_all(assess(example_doc())[0])
    assert not list(folder.iterdir())


def test_a_cache_folder_that_cannot_be_made_means_no_cache(monkeypatch):
    env = _fresh_environment(monkeypatch, "/proc/no-such-folder/templates")
    assert env.bytecode_cache is None
    assert "adfs-server.ps1" in rendering.render_all(assess(example_doc())[0])


def test_a_cache_folder_others_may_write_to_is_not_used(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    env = _fresh_environment(monkeypatch, str(folder))
    assert env.bytecode_cache is None
    assert "adfs-server.ps1" in rendering.render_all(assess(example_doc())[0])
    assert not list(folder.iterdir())


def test_the_cache_can_be_turned_off(monkeypatch):
    assert _fresh_environment(monkeypatch, "off").bytecode_cache is None


def test_a_stale_or_broken_cache_file_is_never_used(tmp_path, monkeypatch):
    folder = tmp_path / "templates"
    _fresh_environment(monkeypatch, str(folder))
    expected = rendering.render_all(assess(example_doc())[0])
    for path in folder.glob("wizard-*.cache"):
        path.write_bytes(b"not a compiled template")
    _fresh_environment(monkeypatch, str(folder))
    assert rendering.render_all(assess(example_doc())[0]) == expected


def test_the_cache_file_names_change_with_the_environment_options(tmp_path, monkeypatch):
    folder = tmp_path / "templates"
    _fresh_environment(monkeypatch, str(folder))
    rendering.render_all(assess(example_doc())[0])
    before = {p.name.split("-")[1] for p in folder.glob("wizard-*.cache")}
    monkeypatch.setitem(rendering._OPTIONS, "trim_blocks", False)
    _fresh_environment(monkeypatch, str(folder))
    rendering.environment().get_template("runbook.md.j2")
    after = {p.name.split("-")[1] for p in folder.glob("wizard-*.cache")}
    assert len(before) == 1 and len(after) == 2


def test_nothing_is_cached_inside_the_install():
    templates = Path(rendering.TEMPLATE_DIR)
    assert not list(templates.rglob("*.cache"))
