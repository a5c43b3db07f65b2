"""``report.md`` and plots of a sim-to-real run (see :mod:`experiments.sim2real`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gan_simulator.io import atomic_path, write_text

__all__ = ["plot_effects", "plot_worlds", "render_report", "write_report"]


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    return path


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_worlds(result: dict[str, Any], path: Path) -> Path:
    """Each policy's profit per customer in the GAN world (x) against the truth (y, 95% CI)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    xs, ys = [], []
    for name, p in result["policies"].items():
        g, t = p["gan_profit_per_customer"], p["truth_profit_per_customer"]
        if g is None or t is None:
            continue
        ax.errorbar(g["mean"], t["mean"], yerr=[[t["mean"] - t["ci_low"]], [t["ci_high"] - t["mean"]]],
                    fmt="o", capsize=3)
        ax.annotate(name, (g["mean"], t["mean"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        xs.append(g["mean"])
        ys.append(t["mean"])
    if xs:
        lo, hi = min(xs + ys), max(xs + ys)
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--", label="same value")
        ax.legend(fontsize=8)
    ax.set_xlabel("profit per customer in the GAN world ($)")
    ax.set_ylabel("profit per customer in the truth ($)")
    rho = result["spearman_policy_ranking"]
    ax.set_title(f"Policy values, GAN world vs truth (Spearman {rho:.2f})" if rho is not None
                 else "Policy values, GAN world vs truth")
    _save(fig, path)
    plt.close(fig)
    return path


def plot_effects(result: dict[str, Any], path: Path) -> Path:
    """Average one-week purchase uplift per action: GAN estimate next to the truth (±2 s.e.)."""
    plt = _pyplot()
    acts = result["effects"]["actions"]
    names = list(acts)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(names)), 3.6))
    width = 0.38
    for j, (who, color) in enumerate((("estimate", "tab:orange"), ("truth", "tab:blue"))):
        means = [100 * acts[n][who]["mean"] for n in names]
        errs = [200 * acts[n][who]["se"] for n in names]
        ax.bar([i + (j - 0.5) * width for i in range(len(names))], means, width, yerr=errs,
               capsize=3, color=color, label="GAN" if who == "estimate" else "truth")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=20)
    ax.set_ylabel("purchase-probability uplift (points)")
    ax.set_title("Effect of each action next week, logged customers")
    ax.legend(fontsize=8)
    _save(fig, path)
    plt.close(fig)
    return path


def _money(e: dict[str, float] | None) -> str:
    if e is None:
        return "–"
    if "ci_low" in e:
        return f"${e['mean']:,.2f} [{e['ci_low']:,.2f}, {e['ci_high']:,.2f}]"
    return f"${e['mean']:,.2f}"


def _fmt(x: Any, spec: str = ".3f") -> str:
    return "–" if x is None else format(x, spec)


def render_report(r: dict[str, Any]) -> str:
    """The markdown text of ``report.md``."""
    ev = r["evaluation"]
    lines = [
        f"# Sim-to-real validation: {r['name']}",
        "",
        f"A campaign history of {r['log']['customers']:,} customers over {r['log']['weeks']} weeks "
        f"was written by the structural ground truth (fingerprint `{r['truth']['fingerprint']}`) "
        f"under a {r['log'].get('policy', 'randomised')} logging policy; a GAN (fingerprint `{r['gan']['fingerprint']}`, "
        f"{r['gan']['epochs']} epochs, learned action effects: {r['gan']['learned_actions']}) was "
        "trained on it; the same RL algorithm was trained in the GAN world and in the truth; every "
        f"policy was then judged on the same {ev['customers']:,} truth customers over "
        f"{ev['horizon']} weeks (common random numbers, seed {ev['seed']}). Brackets are 95% "
        "bootstrap intervals.",
        "",
        "## Targets",
        "",
        "| target | value | met |",
        "|---|---|---|",
    ]
    for name, t in r["targets"].items():
        v = t["value"]
        lines.append(f"| {name} | {_fmt(v) if isinstance(v, float) else v} | "
                     f"{'yes' if t['met'] else '**no**'} |")
    lines += [
        "",
        f"- Profit per customer in the truth, GAN-trained agent / truth-trained agent: "
        f"**{_fmt(r['ratio_gan_policy_to_truth_policy'])}**; the same ratio for the gain over "
        f"no action: {_fmt(r['incremental_ratio_over_no_action'])}; the GAN-trained agent "
        f"with the support penalty / truth-trained agent: "
        f"{_fmt(r.get('ratio_penalised_gan_policy_to_truth_policy'))}.",
        f"- Spearman correlation of the two worlds' rankings of {len(r['ranked_policies'])} "
        f"policies that follow the same rule in both worlds (agents and observation-based "
        f"heuristics): **{_fmt(r['spearman_policy_ranking'])}**; including the model-based "
        f"policies (which consult each world's own model): "
        f"{_fmt(r['spearman_including_model_based'])}. The oracle reads the truth's latent "
        "state and has no GAN-world value.",
        "",
        "## Policies in both worlds",
        "",
        "| policy | truth profit / customer | GAN-world profit / customer | truth vs no_action (paired) | leaves log support (GAN world) |",
        "|---|---|---|---|---|",
    ]
    for name, p in r["policies"].items():
        d = p["truth_paired_vs_no_action"]
        flag = p["support_flagged"]
        lines.append(
            f"| {name} | {_money(p['truth_profit_per_customer'])} | "
            f"{_money(p['gan_profit_per_customer'])} | {d['mean']:+,.2f} [{d['ci_low']:+,.2f}, "
            f"{d['ci_high']:+,.2f}] | {'–' if flag is None else ('**yes**' if flag else 'no')} |")
    lines += ["", "![GAN world vs truth](worlds.png)", "",
              "## GAN-trained agent against each heuristic (truth, paired)", "",
              "| heuristic | difference per customer | 95% CI |", "|---|---|---|"]
    for h, d in r["agent_gan_vs_heuristics"].items():
        lines.append(f"| {h} | {d['mean']:+,.2f} | [{d['ci_low']:+,.2f}, {d['ci_high']:+,.2f}] |")
    for h, d in r["agent_gan_vs_model_based"].items():
        lines.append(f"| {h} (model-based: uses the truth's latent state) | {d['mean']:+,.2f} | "
                     f"[{d['ci_low']:+,.2f}, {d['ci_high']:+,.2f}] |")
    eff = r["effects"]
    lines += [
        "", "## Action effects learned from the log", "",
        f"One-week purchase-probability uplift over *none* on the {eff['customers']:,} logged "
        "customers, for the week after the log ends (mean ± standard error, in points). "
        f"P(buy | none): GAN {100 * eff['p_none']['estimate']['mean']:.2f}, truth "
        f"{100 * eff['p_none']['truth']['mean']:.2f}.", "",
        "| action | GAN | truth | ratio | customer-level correlation |", "|---|---|---|---|---|",
    ]
    for a, e in eff["actions"].items():
        lines.append(
            f"| {a} | {100 * e['estimate']['mean']:.2f} ± {100 * e['estimate']['se']:.2f} | "
            f"{100 * e['truth']['mean']:.2f} ± {100 * e['truth']['se']:.2f} | "
            f"{_fmt(e['ratio'], '.2f')} | {_fmt(e['customer_correlation'], '.2f')} |")
    lines += ["", "By segment (GAN / truth, points):", "",
              "| action | " + " | ".join(next(iter(eff["actions"].values())).get("segments", {}))
              + " |", "|---|" + "---|" * len(next(iter(eff["actions"].values())).get("segments", {}))]
    for a, e in eff["actions"].items():
        cells = [f"{100 * s['estimate']['mean']:.2f} / {100 * s['truth']['mean']:.2f}"
                 for s in e.get("segments", {}).values()]
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    lines += ["", "![effects](effects.png)", "", "## Exploitation guard", "",
              "Decisions scored in the GAN world against the log's support (see "
              "`gan_simulator.support`): share of contact decisions whose (contacts in the "
              "previous 4 weeks, action) cell holds less than the threshold share of the "
              "logged decisions.", "",
              "| policy | out-of-support decisions | overused actions | flagged | reasons |",
              "|---|---|---|---|---|"]
    for name, s in r["support"]["policies"].items():
        lines.append(f"| {name} | {s['out_of_support_share']:.1%} | "
                     f"{', '.join(s['overused_actions']) or '–'} | {'yes' if s['flagged'] else 'no'} "
                     f"| {'; '.join(s['reasons']) or '–'} |")
    if "agent_gan_penalised" in r["policies"]:
        pen, raw = r["policies"]["agent_gan_penalised"], r["policies"]["agent_gan"]
        lines += ["", "**What the penalty changes.** Truth profit per customer: "
                  f"{_money(raw['truth_profit_per_customer'])} without, "
                  f"{_money(pen['truth_profit_per_customer'])} with the support penalty; "
                  "out-of-support decisions "
                  f"{r['support']['policies']['agent_gan']['out_of_support_share']:.1%} -> "
                  f"{r['support']['policies']['agent_gan_penalised']['out_of_support_share']:.1%}."]
    secs = r["seconds"]
    lines += ["", "## Time", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:,.1f} |" for k, v in secs.items()]
    lines += ["", "Full per-world reports: `truth_evaluation/report.md`, "
              "`gan_evaluation/report.md`.", ""]
    return "\n".join(lines)


def write_report(result: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.md``, ``worlds.png`` and ``effects.png`` into ``out_dir``."""
    out = Path(out_dir)
    return {"worlds": plot_worlds(result, out / "worlds.png"),
            "effects": plot_effects(result, out / "effects.png"),
            "report": write_text(out / "report.md", render_report(result))}
