"""The benchmark runner: the quick variant end to end, and failures that must not crash it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import corpus
from bench.eval import DEFAULT_MODES, HEADLINES, main, run_case
from bench.scorer import Scorer, aggregate
from redactor.pipeline import RedactionResult
from redactor.report import Report


@pytest.mark.parametrize("modes", ["nope", "default,nope", ","])
def test_given_unknown_modes_then_the_eval_refuses_before_building_anything(
    modes: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--out", str(tmp_path), "--modes", modes])
    assert exit_info.value.code == 2
    assert "unknown mode" in capsys.readouterr().err
    assert not (tmp_path / "corpus-quick").exists()


@pytest.mark.models
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_quick_eval_scores_every_case_and_writes_no_personal_text(tmp_path: Path) -> None:
    path = main(["--quick", "--out", str(tmp_path)])

    report = json.loads(path.read_text())
    assert report["corpus"]["cases"] == 12
    assert list(report["modes"]) == list(DEFAULT_MODES)
    for mode in report["modes"].values():
        assert len(mode["cases"]) == 12
        for key, _ in HEADLINES:
            value = mode["metrics"][key]
            assert value is None or isinstance(value, int | float), key
        assert mode["metrics"]["faces"] > 0 and mode["metrics"]["pii_items"] > 0
    written = path.read_text() + (tmp_path / "corpus-quick" / corpus.MANIFEST).read_text()
    secrets = [
        secret
        for case, _ in corpus.build_cases(corpus.QUICK, corpus.SEED)
        for secret in [t.text for t in case.pii_text] + [c.decode() for c in case.canaries]
    ]
    assert secrets
    assert not [s for s in secrets if len(s) >= 6 and s in written]


class _Raising:
    def run(self, data: bytes) -> RedactionResult:
        raise RuntimeError("boom")


class _Failing:
    def run(self, data: bytes) -> RedactionResult:
        report = Report(status="failed", error_code="corrupt_image")
        return RedactionResult(report=report, output=None, output_format=None)


class _ReadsNothing:
    def read(self, image: object) -> list[str]:
        return []


@pytest.mark.parametrize("pipeline", [_Raising(), _Failing()])
def test_given_pipeline_failure_then_the_case_is_scored_as_missed(pipeline, tmp_path: Path) -> None:
    case, data = corpus.real_case(corpus.ASTRONAUT)
    assert data is not None
    (tmp_path / case.path).write_bytes(data)
    one = corpus.Corpus(tmp_path, [case], corpus.SEED, quick=True)

    score = run_case(pipeline, one, 0, Scorer(_ReadsNothing()))

    assert not score.ok and score.error
    assert [f.redacted for f in score.faces] == [False]
    assert aggregate([score])["failed"] == [case.id]


class _Stop(Exception):
    pass


@pytest.mark.parametrize(("flags", "with_peers"), [([], True), (["--no-peers"], False)])
def test_given_no_peers_then_the_real_face_section_runs_redactor_alone(
    flags: list[str], with_peers: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--modes faces_only --no-peers`` must not install or run deface; the other
    sections are not what this test is about, so they are stubbed."""
    from bench import eval as bench_eval

    seen: list[bool] = []

    def real_run(quick: bool, out: Path, *, with_peers: bool = True) -> dict[str, object]:
        seen.append(with_peers)
        raise _Stop

    empty = corpus.Corpus(tmp_path, [], corpus.SEED, quick=True)
    monkeypatch.setattr(bench_eval, "generate", lambda root, quick: empty)
    monkeypatch.setattr(bench_eval, "RapidReader", lambda: None)
    monkeypatch.setattr(bench_eval, "evaluate", lambda *args: {})
    monkeypatch.setattr(bench_eval, "report", lambda *args: {})
    monkeypatch.setattr(bench_eval, "headline_table", lambda results: "")
    monkeypatch.setattr(bench_eval, "breakdown_table", lambda *args: "")
    monkeypatch.setattr(bench_eval.real_faces, "run", real_run)

    with pytest.raises(_Stop):
        main(["--quick", "--out", str(tmp_path), "--modes", "faces_only", *flags])

    assert seen == [with_peers]
