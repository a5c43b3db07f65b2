"""Write an evaluation as ``evaluation.json``, PNG plots and a ``report.md`` a manager can read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from experiments.evaluation import SEGMENTS, Evaluation
from gan_simulator.io import atomic_path, write_json, write_text


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")


def plot_profit(ev: Evaluation, path: Path) -> Path:
    """Bar chart of profit per customer with 95% CIs, best policy highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pols = ev.summary["policies"]
    names = list(pols)
    means = np.array([pols[n]["profit_per_customer"]["mean"] for n in names])
    lo = means - np.array([pols[n]["profit_per_customer"]["ci_low"] for n in names])
    hi = np.array([pols[n]["profit_per_customer"]["ci_high"] for n in names]) - means
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(names)), 3.6))
    colors = ["tab:green" if n == ev.summary["best_policy"] else "tab:blue" for n in names]
    ax.bar(names, means, yerr=[lo, hi], capsize=4, color=colors)
    ax.set_ylabel("profit per customer ($)")
    ax.set_title("Profit per customer over the horizon (95% CI)")
    ax.tick_params(axis="x", rotation=30)
    _save(fig, path)
    plt.close(fig)
    return path


def plot_cumulative(ev: Evaluation, path: Path) -> Path:
    """Cumulative profit per customer over the weeks, one line per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, r in ev.rollouts.items():
        ax.plot(np.cumsum(r.weekly_profit) / len(r.profit), label=name)
    ax.set_xlabel("week")
    ax.set_ylabel("cumulative profit per customer ($)")
    ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return path


def plot_active(ev: Evaluation, path: Path) -> Path:
    """Share of customers active (bought in the trailing quarter) week by week."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, r in ev.rollouts.items():
        ax.plot(r.weekly_active, label=name)
    ax.set_xlabel("week")
    ax.set_ylabel("share active (bought in last 13 weeks)")
    ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return path


def plot_action_mix(ev: Evaluation, path: Path) -> Path:
    """Stacked bars: share of each action by segment, one panel per policy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(ev.rollouts)
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 3.4), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        counts = ev.rollouts[name].action_counts.astype(np.float64)
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        bottom = np.zeros(len(SEGMENTS))
        for k, action in enumerate(ev.action_names):
            ax.bar(range(len(SEGMENTS)), share[:, k], bottom=bottom, label=action)
            bottom += share[:, k]
        ax.set_xticks(range(len(SEGMENTS)), SEGMENTS, rotation=60, fontsize=7)
        ax.set_title(name, fontsize=9)
    axes[0][0].set_ylabel("share of customer-weeks")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    _save(fig, path)
    plt.close(fig)
    return path


def _money(e: dict[str, float]) -> str:
    return f"${e['mean']:,.2f} [{e['ci_low']:,.2f}, {e['ci_high']:,.2f}]"


def render_markdown(ev: Evaluation, title: str = "Campaign policy evaluation") -> str:
    """The report text: headline, one table of all policies, paired differences, segments."""
    s = ev.summary
    st = s["settings"]
    base = s["baseline"]
    best = s["best_policy"]
    pols = s["policies"]
    best_diff = s["paired"][best]["profit_per_customer"]
    lines = [
        f"# {title}",
        "",
        f"{st['customers']:,} simulated customers per policy, {st['horizon']} weeks each, the same "
        f"customers and the same luck for every policy (common random numbers, seed {st['seed']}). "
        f"Simulator: {st['simulator']} (fingerprint `{st['simulator_fingerprint']}`). Gross margin "
        f"{st['margin']:.0%}. Brackets are 95% bootstrap confidence intervals.",
        "",
        "## Headline",
        "",
        f"**{best}** earns the most: {_money(pols[best]['profit_per_customer'])} profit per customer "
        f"over {st['horizon']} weeks, "
        + (
            f"{best_diff['mean']:+,.2f} dollars per customer against **{base}** "
            f"(95% CI {best_diff['ci_low']:+,.2f} to {best_diff['ci_high']:+,.2f}"
            + ("; the whole interval is above zero)." if best_diff["ci_low"] > 0 else
               "; the interval includes zero, so the gain is not established).")
            if best != base
            else "which is the baseline itself."
        ),
        "",
        "## All policies",
        "",
        "| policy | profit / customer | vs " + base + " (paired) | revenue / customer | discounts | contacts $ | incentives | contacts / customer | purchase weeks share | active at end | return on incentive spend |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, p in pols.items():
        d = s["paired"][name]["profit_per_customer"]
        rois = p.get("return_on_incentive_spend")
        lines.append(
            f"| {name} | {_money(p['profit_per_customer'])} | {d['mean']:+,.2f} [{d['ci_low']:+,.2f}, {d['ci_high']:+,.2f}] "
            f"| ${p['revenue_per_customer']['mean']:,.2f} | ${p['discount_cost_per_customer']['mean']:,.2f} "
            f"| ${p['contact_cost_per_customer']['mean']:,.2f} | ${p['incentive_cost_per_customer']['mean']:,.2f} "
            f"| {p['contacts_per_customer']['mean']:.1f} | {p['purchase_rate']['mean']:.1%} "
            f"| {p['active_at_end']['mean']:.1%} | "
            + (f"{rois['mean']:+.2f}" if rois else "–")
            + " |"
        )
    lines += [
        "",
        "![profit per customer](profit_per_policy.png)",
        "",
        "## Over time",
        "",
        "![cumulative profit](cumulative_profit.png) ![active customers](active_customers.png)",
        "",
        "## By segment",
        "",
        "*Recent* customers bought in the last 8 weeks, *lapsing* ones longer ago; *high* value "
        "is a spend per purchase week at or above the median at the start, *low* below. Profit is "
        "by the segment a customer started in; the action mix by the segment the customer was in "
        "the week each action was taken.",
        "",
        "| policy | segment | customers | profit / customer | vs " + base + " | most used action |",
        "|---|---|---|---|---|---|",
    ]
    for name, segs in s["segments"].items():
        for seg, v in segs.items():
            d = v["paired_profit_vs_baseline"]
            top = max(v["action_mix"], key=v["action_mix"].get)
            lines.append(
                f"| {name} | {seg} | {v['customers']:,} | {_money(v['profit_per_customer'])} "
                f"| {d['mean']:+,.2f} [{d['ci_low']:+,.2f}, {d['ci_high']:+,.2f}] "
                f"| {top} ({v['action_mix'][top]:.0%}) |"
            )
    lines += [
        "",
        "![action mix by segment](action_mix.png)",
        "",
        "## How to read this",
        "",
        "- *Profit* is margin on list-price sales minus discounts given, contact costs and incentives.",
        "- *vs baseline* compares each customer with the same customer under the baseline policy; "
        "an interval entirely above zero means the policy reliably earns more on these customers.",
        "- *Return on incentive spend* is the extra profit over the baseline per dollar spent on "
        "discounts, incentives and contacts.",
        "- *Active at end*: bought in the last 13 weeks of the horizon.",
        "- These are simulated customers. A policy's value in reality depends on how faithful the "
        "simulator is; see the simulator's fidelity report.",
        "",
    ]
    return "\n".join(lines)


def write_evaluation(ev: Evaluation, out_dir: str | Path, title: str = "Campaign policy evaluation") -> dict[str, Path]:
    """Write ``evaluation.json``, ``report.md`` and four PNG plots into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "profit": plot_profit(ev, out / "profit_per_policy.png"),
        "cumulative": plot_cumulative(ev, out / "cumulative_profit.png"),
        "active": plot_active(ev, out / "active_customers.png"),
        "action_mix": plot_action_mix(ev, out / "action_mix.png"),
    }
    paths["json"] = write_json(out / "evaluation.json", ev.summary)
    paths["report"] = write_text(out / "report.md", render_markdown(ev, title))
    return paths
