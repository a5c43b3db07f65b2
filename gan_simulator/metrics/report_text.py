"""Render the report dictionary written by :func:`~gan_simulator.metrics.report.write_report`
as readable Markdown: a headline table against the targets, a "how to read this" section,
one section per metric family with tables and figure links, and the settings used.
"""

from __future__ import annotations

from typing import Any

TARGETS: dict[str, tuple[str, str]] = {
    "discriminative_score": ("<= 0.15", "le:0.15"),
    "tstr_ratio": (">= 0.9", "ge:0.9"),
    "privacy.mia_auc": ("<= 0.55", "le:0.55"),
}
"""Targets of the GAN issue for the headline metrics (text, rule)."""

HOW_TO_READ = """\
## How to read this

- **Holdout forecast** (the classic CDNOW test). Models see weeks 0 to calibration end only and
  forecast the remaining weeks for every customer who bought during calibration, with no
  marketing action. A repeat transaction is a distinct purchase *day*. *Total error* is
  `(predicted - actual) / actual` (negative = under-forecast); *weekly MAPE* is the mean of
  `|predicted - actual| / actual` over the weekly totals. The GAN should beat BG/NBD (fitted on
  the same calibration data) on both. The holdout includes weeks unlike any calibration week
  (a Nov-Dec season, bursts in Feb-Mar) that no model here can know, so no weekly MAPE gets
  near zero.
- **Fidelity.** Real *test* customers (never used in training) against brand-new generated
  customers over the same calendar weeks. Total variation: 0 = identical distributions, 1 =
  disjoint. Wasserstein-1 is in the variable's unit (dollars, weeks). KS is the largest gap
  between the two CDFs.
- **Discriminative score** `|accuracy - 0.5|` of a GRU classifier trained to tell real from
  generated customers, measured on customers it was not trained on: 0 = indistinguishable,
  0.5 = perfectly separable.
- **TSTR ratio**: AUC of a next-week purchase model trained on generated customers, divided
  by the AUC of the same model trained on as many real customers; both are tested on real test
  customers. 1 = the generated data are as useful as real data for this task.
- **Privacy.** DCR = distance from a record (a customer's weekly sequence) to the closest
  *training* customer. Generated customers are compared with real holdout customers the GAN
  never saw: `dcr_ratio` = mean DCR of generated / mean DCR of holdout (about 1 = no closer to
  the training data than a new real customer; well below 1 = copying). Many real customers
  share their exact sequence (one purchase, never again), so exact matches are shown for both
  groups; only an *excess* for the generated ones signals copying. The membership-inference
  AUC is that of an attacker who calls a candidate a training member when it is close to a
  generated record: 0.5 = the attacker learns nothing.
"""


def _fmt(value: Any, pct: bool | str = False, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and not pct:
        return f"{value:,}"
    if pct:
        return f"{100 * value:+.1f}%" if pct == "signed" else f"{100 * value:.1f}%"
    return f"{value:,.{digits}f}"


def _get(report: dict[str, Any], dotted: str) -> Any:
    node: Any = report
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _verdict(value: Any, rule: str) -> str:
    if value is None:
        return "n/a"
    op, limit = rule.split(":")
    ok = value <= float(limit) if op == "le" else value >= float(limit)
    return "met" if ok else "missed"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _headline(report: dict[str, Any]) -> str:
    h = report["holdout"]
    gan, bg = h["gan"], h["bgnbd"]
    beat_total = (
        "met"
        if None not in (gan["total_error"], bg["total_error"])
        and abs(gan["total_error"]) < abs(bg["total_error"])
        else "missed"
    )
    beat_mape = (
        "met"
        if None not in (gan["weekly_mape"], bg["weekly_mape"])
        and gan["weekly_mape"] < bg["weekly_mape"]
        else "missed"
    )
    rows = [
        [
            "holdout total error (GAN)",
            _fmt(gan["total_error"], "signed"),
            f"magnitude < BG/NBD's {_fmt(bg['total_error'], 'signed')}",
            beat_total,
        ],
        [
            "holdout weekly MAPE (GAN)",
            _fmt(gan["weekly_mape"], True),
            f"< BG/NBD's {_fmt(bg['weekly_mape'], True)}",
            beat_mape,
        ],
    ]
    for key, (text, rule) in TARGETS.items():
        value = _get(report, key)
        rows.append([key, _fmt(value), text, _verdict(value, rule)])
    rows.append(
        ["privacy.dcr_ratio", _fmt(_get(report, "privacy.dcr_ratio")), "about 1 (no copying)", "-"]
    )
    secs = report.get("train_seconds")
    rows.append(
        ["train_seconds", "n/a" if secs is None else f"{secs:,.0f}", "<= 1,200 on 2 CPU cores", "-"]
    )
    return "## Headline\n\n" + _table(["metric", "value", "target", "verdict"], rows)


def _holdout(report: dict[str, Any]) -> str:
    h = report["holdout"]
    rows = [["actual", _fmt(h["actual_total"], digits=0), "", ""]]
    for name, label in (("gan", "GAN"), ("bgnbd", "BG/NBD")):
        m = h[name]
        rows.append(
            [
                label,
                _fmt(m["total_predicted"], digits=0),
                _fmt(m["total_error"], "signed"),
                _fmt(m["weekly_mape"], True),
            ]
        )
    p = h["bgnbd_params"]
    text = (
        f"## Holdout forecast\n\n{h['n_customers']:,} customers, weeks 0-{h['calibration_periods'] - 1} "
        f"calibration, {h['holdout_periods']} holdout weeks. BG/NBD fitted on the {h['bgnbd_source']}: "
        f"r={p['r']:.3f}, alpha={p['alpha']:.3f}, a={p['a']:.3f}, b={p['b']:.3f}.\n\n"
        + _table(["", "holdout repeat purchase days", "total error", "weekly MAPE"], rows)
    )
    buckets = [str(i) for i in range(len(h["actual_conditional_expectation"]) - 1)]
    buckets.append(f"{len(buckets)}+")
    cond_rows = [
        [b, f"{n:,}", _fmt(a), _fmt(g), _fmt(bg)]
        for b, n, a, g, bg in zip(
            buckets,
            h["frequency_bucket_sizes"],
            h["actual_conditional_expectation"],
            h["gan"]["conditional_expectation"],
            h["bgnbd"]["conditional_expectation"],
            strict=True,
        )
    ]
    text += "\nConditional expectation: mean holdout purchase days by calibration repeat purchase days.\n\n"
    text += _table(["calibration x", "customers", "actual", "GAN", "BG/NBD"], cond_rows)
    return text + _figs(report, "holdout_weekly", "holdout_cumulative", "conditional_expectation")


def _fidelity(report: dict[str, Any]) -> str:
    f = report["fidelity"]
    rp = f["repeat_purchases"]
    rows = [
        [b, _fmt(r, True), _fmt(s, True)]
        for b, r, s in zip(rp["buckets"], rp["real"], rp["synthetic"], strict=True)
    ]
    text = (
        "## Fidelity (real test customers vs generated)\n\nRepeat purchase weeks per customer:\n\n"
    )
    text += _table(["repeat weeks", "real", "generated"], rows)
    sp, gp = f["spend_per_transaction"], f["inter_purchase_weeks"]
    dist_rows = [
        ["repeat purchases (0..7+)", "total variation", _fmt(rp["total_variation"]), "", ""],
        [
            "spend per transaction ($)",
            "Wasserstein / KS",
            f"{_fmt(sp['wasserstein'])} / {_fmt(sp['ks'])}",
            _fmt(sp["real"]["median"], digits=2),
            _fmt(sp["synthetic"]["median"], digits=2),
        ],
        [
            "inter-purchase weeks",
            "Wasserstein / KS",
            f"{_fmt(gp['wasserstein'])} / {_fmt(gp['ks'])}",
            _fmt(gp["real"]["median"], digits=1),
            _fmt(gp["synthetic"]["median"], digits=1),
        ],
        [
            "weekly purchase rate",
            "mean abs. difference",
            _fmt(f["weekly_purchase_rate"]["mean_abs_diff"], digits=4),
            "",
            "",
        ],
        [
            "purchase autocorrelation (lags 1-8)",
            "mean abs. difference",
            _fmt(f["autocorrelation"]["mean_abs_diff"]),
            _fmt(f["autocorrelation"]["real"][0]),
            _fmt(f["autocorrelation"]["synthetic"][0]),
        ],
    ]
    text += "\n" + _table(
        ["distribution", "distance", "value", "real median (lag 1)", "generated median (lag 1)"],
        dist_rows,
    )
    return text + _figs(
        report,
        "repeat_purchases",
        "spend_per_transaction",
        "inter_purchase_weeks",
        "weekly_purchase_rate",
        "autocorrelation",
    )


def _usefulness(report: dict[str, Any]) -> str:
    d, t = report["discriminative"], report["tstr"]
    text = (
        f"## Discriminative score\n\nGRU classifier, {d['epochs']} epochs, trained on {d['n_train']:,} and "
        f"scored on {d['n_test']:,} customers (half real, half generated): held-out accuracy "
        f"{_fmt(d['accuracy'])} (train {_fmt(d['train_accuracy'])}), score **{_fmt(d['score'])}**.\n\n"
        f"## TSTR (next-week purchase)\n\nModel: {t['model']}, window {t['window']} weeks; threshold "
        "maximising F1 on each model's own training data.\n\n"
    )
    rows = [
        [k, _fmt(t["trained_on_synthetic"][k]), _fmt(t["trained_on_real"][k]), _fmt(t["ratios"][k])]
        for k in ("auc", "accuracy", "precision", "recall", "f1")
    ]
    return text + _table(
        ["score on real test", "trained on generated", "trained on real", "ratio"], rows
    )


def _privacy(report: dict[str, Any]) -> str:
    p = report["privacy"]
    text = (
        f"## Privacy\n\nHeadline representation: `{p['headline_representation']}`. Reference set: "
        "all training customers.\n\n"
    )
    rows = []
    for rep in ("counts", "counts+spend"):
        r = p[rep]
        rows.append(
            [
                rep,
                _fmt(r["dcr_ratio"]),
                f"{_fmt(r['mean_dcr']['generated'])} / {_fmt(r['mean_dcr']['holdout'])}",
                f"{_fmt(r['exact_match_share']['generated'], True)} / {_fmt(r['exact_match_share']['holdout'], True)}",
                _fmt(r["p_generated_closer"]),
                _fmt(r["mia_auc"]),
            ]
        )
    text += _table(
        [
            "records",
            "dcr_ratio",
            "mean DCR gen / holdout",
            "exact matches gen / holdout",
            "P(gen closer)",
            "MIA AUC",
        ],
        rows,
    )
    return text + _figs(report, "privacy_dcr")


def _figs(report: dict[str, Any], *names: str) -> str:
    figs = report.get("figures", {})
    return "\n" + "\n".join(f"![{n}]({figs[n]})" for n in names if n in figs) + "\n"


def render_markdown(report: dict[str, Any]) -> str:
    """The full ``report.md`` text for a report dictionary."""
    s, d = report["settings"], report["data"]
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in report.get("timings_seconds", {}).items())
    footer = (
        f"## Settings\n\nseed {s['seed']}, split seed {s['split_seed']}, quick={s['quick']}; "
        f"{d['n_customers']:,} customers x {d['n_periods']} weeks from {d['first_week']}; "
        f"{d['n_train']:,} train / {d['n_test']:,} test customers; {d['n_generated']:,} generated; "
        f"{s['forecast_samples']} forecast samples per customer.\n\nMetric time: {timings}.\n"
    )
    return "\n".join(
        [
            "# GAN simulator report\n",
            _headline(report),
            HOW_TO_READ,
            _holdout(report),
            _fidelity(report),
            _usefulness(report),
            _privacy(report),
            footer,
        ]
    )
