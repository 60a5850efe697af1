# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # LLM coordinators and STEER on the very same task instances
#
# This notebook runs a small sweep (`notebooks/compare_llm_vs_steer.toml`): the greedy planner,
# LLaMAC (our lean preset, and the paper's configuration for a few steps), HMAS-2, STEER and MAPPO
# trained briefly on random instances, and per-agent students distilled from STEER, all on the same
# Grid Transportation and Resource Allocation instances. The LLM calls replay a cassette recorded
# against the shipped Qwen2.5-Coder-0.5B (set `LLAMAC_NOTEBOOK_RECORD=all` with a model server at the
# recording URL to record it again; `scripts/record_cassettes.sh` does that). The second part loads the
# committed comparison in `results/compare`.
#
# Every table and figure below is computed from the sweep's results table, not typed in.

# %%
import os
from pathlib import Path

ROOT = Path.cwd() if (Path.cwd() / "llamac").is_dir() else Path.cwd().parent
SPEC = ROOT / "notebooks" / "compare_llm_vs_steer.toml"
OUT = Path(os.environ.get("LLAMAC_NOTEBOOK_OUT", ROOT / "runs" / "notebook_compare"))
CASSETTE = ROOT / "cassettes" / "notebooks" / "compare_llm_vs_steer.yaml"
RECORD_MODE = os.environ.get("LLAMAC_NOTEBOOK_RECORD", "none")  # none: replay only; all: record again
# The cassette's requests were made to this URL; replaying needs no server there.
os.environ.setdefault("LLAMAC_LOCAL_URL", "http://127.0.0.1:8765/v1")

# %% [markdown]
# ## Run the sweep (continues where a previous run stopped)

# %%
import vcr

from llamac.app.sweep import run_sweep

recorder = vcr.VCR(
    record_mode=RECORD_MODE,
    match_on=["method", "uri", "body"],
    filter_headers=[("authorization", "REDACTED"), ("api-key", "REDACTED")],
    decode_compressed_response=True,
)
# the server's /models probe is asked before every run, so a recorded answer may be played again
with recorder.use_cassette(str(CASSETTE), allow_playback_repeats=True):
    sweep = run_sweep(SPEC, OUT, workers=2, quiet=True)
assert not sweep.outcome.failed, sweep.outcome.failed
print(f"{sweep.cells} cells: ran {len(sweep.outcome.ran)}, already finished {sweep.finished_before}; "
      f"{sweep.tokens:,} tokens")

# %% [markdown]
# ## The results table: one row per episode

# %%
from llamac.app.sweep.table import read_table

rows = read_table(OUT)
columns = ["cell", "success", "steps", "greedy_steps", "tokens", "llm_calls", "gate_share", "normalised_mean"]
for row in rows:
    print("  ".join(f"{c}={row[c]}" for c in columns if row[c] is not None))

# %% [markdown]
# ## The papers' layout, with the papers' figures beside ours

# %%
from IPython.display import Image, Markdown, display

from llamac.app.report import write_report
from llamac.app.report.tables import all_tables


def show_tables(table_rows):
    for table in all_tables(table_rows):
        lines = [f"**{table.title}**", "", "| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
        lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in table.rows]
        display(Markdown("\n".join(lines)))


show_tables(rows)

# %% [markdown]
# ## Figures

# %%
written = write_report(OUT)
for figure in written.figures:
    display(Image(filename=str(figure)))

# %% [markdown]
# ## The committed comparison (`results/compare`)
#
# The full comparison (`examples/compare.toml` and `examples/compare_rl.toml`, reported together): every coordinator on the golden grid instances and on
# allocation seeds; see `results/compare/report.md` for how it was run.

# %%
COMMITTED = ROOT / "results" / "compare"
if (COMMITTED / "results.parquet").is_file():
    committed = read_table(COMMITTED)
    print(f"{len(committed)} episodes")
    show_tables(committed)
    for figure in sorted((COMMITTED / "figures").glob("*.png")):
        display(Image(filename=str(figure)))
else:
    print("results/compare is not there yet")
