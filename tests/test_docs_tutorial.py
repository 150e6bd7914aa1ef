"""The dialect tutorial's example runs, prints what the tutorial shows, and the
tutorial quotes it verbatim (so docs/tutorial-dialect.md cannot drift from the code)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "toy_dialect.py"
TUTORIAL = ROOT / "docs" / "tutorial-dialect.md"


def _run_example() -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_example_runs_and_prints_each_step() -> None:
    out = _run_example()
    lines = out.splitlines()
    for heading in ("== 1. parse, verify and print ==", "== 2. the verifier rejects bad ops ==",
                    "== 3. the parser rejects a bad type parameter ==", "== 4. run a pipeline ==",
                    "== 5. the result =="):
        assert heading in lines
    # step 1: the dialect type and the ops parse and print back
    assert ('    %a = "toy.scale"(%x) <{factor = 2 : i64}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> '
            'loc("Mul_0")') in lines
    # step 2: verify_() and the generic operand check reject bad ops
    assert "bad_scale.mlir:3:8: error: 'toy.scale' op factor must not be 0" in lines
    assert ("bad_add.mlir:3:8: error: 'toy.add' op operand #0 ('lhs'): expected toy.vec, "
            "got tensor<4xf32>") in lines
    # step 3: from_parameters rejects a bad parameter, reported at the type with a caret
    assert ("bad_type.mlir:1:34: error: invalid parameters for '!toy.vec': "
            "size must be at least 1, got 0") in lines
    # step 4: the pipeline prints canonically; the pass merges the chain with fused locations
    assert "pipeline: func.func(toy-fold-scales{drop-identity=false}),canonicalize" in lines
    assert "// -----// IR Dump After toy-fold-scales{drop-identity=false} (func.func) //----- //" in lines
    merged = ('%b = "toy.scale"(%x) <{factor = 6 : i64}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> '
              'loc(fused["Mul_0", "Mul_1"])')
    assert "  " + merged in lines
    after_pass = out.split("== 4. run a pipeline ==")[1].split("== 5. the result ==")[0]
    assert '"toy.scale"(%x) <{factor = 1 : i64}>' in after_pass  # drop-identity=false kept it
    # step 5: canonicalize removed the scale by 1 through the HasCanonicalizer pattern
    result = out.split("== 5. the result ==")[1]
    assert "    " + merged in result.splitlines()
    assert '    %d = "toy.add"(%b, %x) : (!toy.vec<4, f32>, !toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Add_3")' \
        in result.splitlines()
    assert "factor = 1" not in result and "factor = 2" not in result


def test_tutorial_output_block_is_current() -> None:
    doc = TUTORIAL.read_text(encoding="utf-8")
    assert _run_example() in doc


def test_tutorial_python_blocks_are_quoted_verbatim() -> None:
    doc = TUTORIAL.read_text(encoding="utf-8")
    code = EXAMPLE.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", doc, flags=re.S | re.M)
    assert len(blocks) >= 8
    for block in blocks:
        assert block in code, f"this block of {TUTORIAL.name} is not in {EXAMPLE.name}:\n{block}"


def test_toy_mlir_is_the_example_source() -> None:
    text = (ROOT / "examples" / "toy.mlir").read_text(encoding="utf-8")
    assert f'SOURCE = """\\\n{text}"""' in EXAMPLE.read_text(encoding="utf-8")
