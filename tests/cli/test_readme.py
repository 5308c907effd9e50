"""README.md's "What a user sees" is real `pulumi` output: this runs `make
demo`'s transcript and requires the README block to match it (run times,
random ids and role ids normalised).

After a change to what the CLI prints, refresh the README block with
    PYTHONPATH=tests .venv/bin/python -m cli.test_readme
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from cli.workspace import REPO

sys.path.insert(0, str(REPO / "tests"))
import demo  # noqa: E402

README = REPO / "README.md"
BLOCK = re.compile(r"(<!-- cli-transcript:begin -->\n)(.*?)(<!-- cli-transcript:end -->)", re.S)
# The steps the README shows; the demo prints every step.
SHOWN = ("pulumi preview", "pulumi config set --path 's3Buckets[0]' xpander-data && pulumi preview --diff", "pulumi stack output")


def stable(output: str) -> str:
    """The display streams each warning as it arrives, interleaved with other
    resources' progress in an order that varies between runs; the Diagnostics
    section repeats every one of them in a fixed order. Step lines keep their
    operation, without the warning text, in name order; lines that only
    carried a warning go."""
    head, diagnostics, tail = output.partition("Diagnostics:")
    if not diagnostics:
        return output
    kept: list[str] = []
    for line in head.splitlines():
        step = line.split(" warning: ")[0].rstrip()
        if step.startswith("    ") and " warning: " in line:
            continue
        if step not in kept or not step:
            kept.append(step)
    # Sibling resources (the connectors) finish their steps in either order.
    at = [i for i, line in enumerate(kept) if line.startswith(" +  xpander:")]
    for i, line in zip(at, sorted(kept[i] for i in at)):
        kept[i] = line
    return "\n".join(kept) + "\nDiagnostics:" + tail


def capture(work: Path) -> str:
    steps: dict[str, str] = {}
    demo.transcript(work, lambda command, output: steps.__setitem__(command, output))
    return "".join(f"```text\n$ {command}\n{demo.normalise(stable(steps[command]))}\n```\n" for command in SHOWN)


def readme_transcript() -> str:
    found = BLOCK.search(README.read_text())
    assert found, "README.md lacks the <!-- cli-transcript:begin/end --> block"
    return found.group(2)


def test_readme_shows_what_the_cli_prints(tmp_path):
    assert readme_transcript() == capture(tmp_path), (
        "README.md's CLI transcript is stale: run `PYTHONPATH=tests .venv/bin/python -m cli.test_readme`"
    )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        fresh = capture(Path(work))
    README.write_text(BLOCK.sub(lambda m: m.group(1) + fresh + m.group(3), README.read_text()))
    print("README.md's CLI transcript refreshed")
