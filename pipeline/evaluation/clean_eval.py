"""``pipeline eval clean``: our clean stage against plain trafilatura, side by side, in one run.

Corpora (under ``--data``, default ``../shared/data``):

* ``zyte``: Zyte article-extraction benchmark, 181 pages; 4-gram shingle P/R/F1 as its
  ``evaluate.py`` computes it (see :mod:`pipeline.evaluation._scoring`; verified against that
  script on the same predictions).
* ``fundus``: fundus-evaluation, 80 English news pages; same shingle metric against the required
  paragraphs, optional ``[bracketed]`` paragraphs neutral (neither rewarded nor penalised).
* ``plain:design`` / ``plain:holdout``: the labelled plain-text set of
  :mod:`pipeline.evaluation._plainset`, one per boilerplate half; shingle P/R/F1 against the gold
  body, share of inserted boilerplate lines removed, share of teaser lines removed, share of body
  sentences kept (and of all body lines, headings included).

Both cleaners get the same ``str`` input (HTML decoded once with :func:`decode_bytes`). The
baseline is ``trafilatura.extract`` with default settings; for plain text it gets the lines
wrapped as ``<p>`` elements. Pages/s is wall time of the cleaner call alone, one process.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trafilatura
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pipeline.clean import CleanConfig, clean_html, clean_text, decode_bytes
from pipeline.evaluation._plainset import PlainCase, build_plain_set
from pipeline.evaluation._scoring import TpFpFn, aggregate, shingle_match

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class HtmlCase:
    id: str
    html: str
    body: str
    optional: tuple[str, ...] = ()


@dataclass(slots=True)
class Row:
    corpus: str
    system: str
    n: int = 0
    seconds: float = 0.0
    scores: list[TpFpFn] = field(default_factory=list)
    counts: dict[str, list[int]] = field(default_factory=dict)  # name -> [hits, total]

    def count(self, name: str, hits: int, total: int) -> None:
        slot = self.counts.setdefault(name, [0, 0])
        slot[0] += hits
        slot[1] += total

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"corpus": self.corpus, "system": self.system, "n": self.n}
        out.update(aggregate(self.scores))
        out["pages_per_s"] = self.n / self.seconds if self.seconds else 0.0
        for name, (hits, total) in self.counts.items():
            out[name] = hits / total if total else 0.0
        return out


def _zyte(data: Path, limit: int | None) -> list[HtmlCase]:
    root = data / "zyte-article-extraction"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    return [
        HtmlCase(
            k,
            decode_bytes(gzip.decompress((root / "html" / f"{k}.html.gz").read_bytes())),
            truth[k].get("articleBody") or "",
        )
        for k in keys
    ]


def _fundus(data: Path, limit: int | None) -> list[HtmlCase]:
    root = data / "fundus-evaluation" / "dataset"
    truth = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    cases = []
    for k in keys:
        paras = [p.strip() for p in truth[k]["body"]]
        required = "\n".join(p for p in paras if not p.startswith("["))
        optional = tuple(p.strip("[]") for p in paras if p.startswith("["))
        page = decode_bytes(gzip.decompress((root / "html" / k).read_bytes()))
        cases.append(HtmlCase(k, page, required, optional))
    return cases


def _ours_html(page: str, config: CleanConfig) -> str:
    return clean_html(page, config).body


def _baseline_html(page: str, config: CleanConfig) -> str:
    return trafilatura.extract(page) or ""


def _ours_text(text: str, config: CleanConfig) -> str:
    return clean_text(text, config)[1]


def _baseline_text(text: str, config: CleanConfig) -> str:
    paras = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())
    return trafilatura.extract(f"<html><body><article>{paras}</article></body></html>") or ""


def _key(text: str) -> str:
    return " ".join(_TOKEN.findall(text.lower()))


def _plain_counts(row: Row, case: PlainCase, output: str) -> None:
    flat = f" {_key(output)} "
    paras = {_key(p) for p in output.split("\n")}

    def present(segment: str) -> bool:
        key = _key(segment)
        return bool(key) and (key in paras or (len(key.split()) >= 3 and f" {key} " in flat))

    row.count(
        "boilerplate_removed",
        sum(not present(s) for s in case.boilerplate if _key(s)),
        sum(1 for s in case.boilerplate if _key(s)),
    )
    row.count("teasers_removed", sum(not present(s) for s in case.teasers), len(case.teasers))
    noise = [s for s in (*case.boilerplate, *case.teasers) if _key(s)]
    row.count("noise_removed", sum(not present(s) for s in noise), len(noise))
    row.count("sentences_kept", sum(f" {_key(s)} " in flat for s in case.sentences), len(case.sentences))
    row.count("body_lines_kept", sum(f" {_key(p)} " in flat for p in case.paragraphs), len(case.paragraphs))


def _run(
    progress: Progress, label: str, items: Sequence[Any], fn: Callable[[Any], str]
) -> Iterator[tuple[Any, str, float]]:
    task = progress.add_task(label, total=len(items))
    for item in items:
        start = time.perf_counter()
        out = fn(item)
        yield item, out, time.perf_counter() - start
        progress.advance(task)


def _bind(fn: Callable[[str, CleanConfig], str], config: CleanConfig, attr: str) -> Callable[[Any], str]:
    def call(case: Any) -> str:
        return fn(getattr(case, attr), config)

    return call


def evaluate(data: Path, limit: int | None, config: CleanConfig, corpora: Sequence[str]) -> list[Row]:
    rows: list[Row] = []
    systems: list[tuple[str, Callable[[str, CleanConfig], str], Callable[[str, CleanConfig], str]]] = [
        ("ours", _ours_html, _ours_text),
        ("trafilatura", _baseline_html, _baseline_text),
    ]
    with Progress(console=Console(stderr=True), transient=True) as progress:
        for corpus in corpora:
            if corpus in ("zyte", "fundus"):
                cases = (_zyte if corpus == "zyte" else _fundus)(data, limit)
                for name, html_fn, _ in systems:
                    row = Row(corpus, name)
                    for case, out, secs in _run(
                        progress, f"{corpus} {name}", cases, _bind(html_fn, config, "html")
                    ):
                        row.n += 1
                        row.seconds += secs
                        row.scores.append(shingle_match(case.body, out, case.optional))
                    rows.append(row)
            else:
                half = corpus.split(":", 1)[1]
                plain = build_plain_set(data, half, limit)
                for name, _, text_fn in systems:
                    row = Row(corpus, name)
                    for case, out, secs in _run(
                        progress, f"{corpus} {name}", plain, _bind(text_fn, config, "text")
                    ):
                        row.n += 1
                        row.seconds += secs
                        row.scores.append(shingle_match(case.body, out))
                        _plain_counts(row, case, out)
                    rows.append(row)
    return rows


def _table(summaries: list[dict[str, Any]]) -> Table:
    table = Table(title="clean stage: ours vs trafilatura.extract (defaults)")
    columns = [
        "corpus",
        "system",
        "n",
        "precision",
        "recall",
        "f1",
        "pages/s",
        "boilerplate rm",
        "teasers rm",
        "bp+teasers rm",
        "sentences kept",
        "body lines kept",
    ]
    keys = [
        "corpus",
        "system",
        "n",
        "precision",
        "recall",
        "f1",
        "pages_per_s",
        "boilerplate_removed",
        "teasers_removed",
        "noise_removed",
        "sentences_kept",
        "body_lines_kept",
    ]
    for col in columns:
        table.add_column(col, justify="left" if col in ("corpus", "system") else "right")
    for s in summaries:
        cells = []
        for key in keys:
            value = s.get(key)
            if value is None:
                cells.append("")
            elif key in ("corpus", "system", "n"):
                cells.append(str(value))
            elif key == "pages_per_s":
                cells.append(f"{value:.1f}")
            elif key in ("precision", "recall", "f1"):
                cells.append(f"{value:.4f}")
            else:
                cells.append(f"{100 * value:.2f}%")
        table.add_row(*cells)
    return table


def run(args: argparse.Namespace) -> int:
    data = Path(args.data).resolve()
    if not data.is_dir():
        print(f"data folder not found: {data}", file=sys.stderr)
        return 2
    corpora = args.corpus or ["zyte", "fundus", "plain:design", "plain:holdout"]
    rows = evaluate(data, args.limit, CleanConfig(), corpora)
    summaries = [r.summary() for r in rows]
    Console(width=200).print(_table(summaries))
    if args.json:
        Path(args.json).write_text(json.dumps(summaries, indent=2), encoding="utf-8")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``clean`` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser("clean", help="score the clean stage against trafilatura")
    parser.add_argument("--data", default="../shared/data", help="shared data folder")
    parser.add_argument("--limit", type=int, default=None, help="at most N documents per corpus")
    parser.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    parser.add_argument(
        "--corpus",
        action="append",
        choices=["zyte", "fundus", "plain:design", "plain:holdout"],
        help="corpora to run (repeatable; default all)",
    )
    parser.set_defaults(func=run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline eval")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
