"""Every error a user can cause: its message, its location and exit code 1, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import testdialect

from fmlc.compiler.opt import main as opt_main

BIN = Path(sys.executable).parent
PLUGIN = testdialect.__file__


def run_opt(capsys, tmp_path: Path, source: str | None, *args: str) -> tuple[int, str, Path]:
    """Run fmlc-opt in-process on ``source`` (written to input.mlir); return (exit code, stderr, path)."""
    path = tmp_path / "input.mlir"
    if source is not None:
        path.write_text(source)
    rc = opt_main([str(path), *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    return rc, err, path


PARSE_ERRORS = {
    "syntax": ('"test.effect"() : () -> ()\n"test.effect"( : () -> ()\n', "2:16", "unexpected ':', expected ')'"),
    "unknown op": ('"foo.bar"() : () -> ()\n', "1:1", "unknown operation 'foo.bar' (dialect 'foo' is not registered)"),
    "unknown op of a known dialect": ('"test.nope"() : () -> ()\n', "1:1", "unknown operation 'test.nope'"),
    "undefined value": ('"test.effect"(%x) : (i32) -> ()\n', "1:15", "use of undefined value '%x'"),
    "redefined value": ('%x = "test.effect"() : () -> i32\n%x = "test.effect"() : () -> i32\n', "2:1",
                        "redefinition of SSA value '%x'"),
    "operand type": ('%x = "test.effect"() : () -> i32\n"test.effect"(%x) : (f32) -> ()\n', "2:21",
                     "operand #0 of 'test.effect' has type i32, but the signature says f32"),
    "unknown type": ('"test.effect"() : () -> !foo.bar<1>\n', "1:25", "unknown type '!foo.bar'"),
    "bad type params": ('"test.effect"() : () -> !test.vec<0, i32>\n', "1:25",
                        "invalid parameters for '!test.vec': length must be at least 1, got 0"),
    "bad type param kinds": ('"test.effect"() : () -> !test.vec<i32>\n', "1:25",
                             "invalid parameters for '!test.vec': expected <length, element type>"),
    "elided constant": ('"test.pure"() <{value = dense_resource<__elided__> : tensor<4xf32>}> : () -> ()\n', "1:25",
                        "cannot parse an elided constant"),
}


@pytest.mark.parametrize(("source", "where", "message"), PARSE_ERRORS.values(), ids=PARSE_ERRORS.keys())
def test_parse_errors_show_the_line_and_a_caret(capsys, tmp_path, source, where, message):
    rc, err, path = run_opt(capsys, tmp_path, source)
    line, col = map(int, where.split(":"))
    assert rc == 1
    head, src_line, caret = err.splitlines()
    assert head.startswith(f"{path}:{where}: error: {message}")
    assert src_line == source.splitlines()[line - 1]
    assert caret == " " * (col - 1) + "^"


VERIFY_ERRORS = {
    "constraint": ('%x = "test.effect"() : () -> f32\n%y = "test.cast"(%x) : (f32) -> tensor<2xf32>\n', "2:6",
                   "'test.cast' op operand #0 ('input'): expected IntegerType, got f32"),
    "missing property": ('%y = "test.const"() : () -> tensor<2xf32>\n', "1:6",
                         "'test.const' op requires property 'value'"),
    "unknown property": ('"test.flip"() <{state = true, bogus = 1}> : () -> ()\n', "1:1",
                         "'test.flip' op has unknown property 'bogus'"),
    "property constraint": ('"test.flip"() <{state = 1 : i64}> : () -> ()\n', "1:1",
                            "'test.flip' op property 'state': expected BoolAttr, got 1 : i64"),
    "operand count": ('%y = "test.neg"() : () -> f32\n', "1:6", "'test.neg' op expects 1 operand, got 0"),
    "segment sizes": ('%a = "test.effect"() : () -> i32\n'
                      '%b = "test.groups"(%a, %a) <{operandSegmentSizes = [1 : i32, 0 : i32, 0 : i32]}>'
                      ' : (i32, i32) -> i32\n', "2:6",
                      "'test.groups' op 'operandSegmentSizes' [1, 0, 0] does not fit 2 operands"),
    "same types": ('%a = "test.effect"() : () -> i32\n%b = "test.neg"(%a) : (i32) -> f32\n', "2:6",
                   "'test.neg' op requires the same type for all operands and results"),
    "terminator": ('"test.region"() ({\n  "test.yield"() : () -> ()\n  "test.effect"() : () -> ()\n}) : () -> ()\n',
                   "2:3", "'test.yield' op must be the last operation in its block"),
    "parent": ('"test.yield"() : () -> ()\n', "1:1",
               "'test.yield' op expects parent op 'test.region' or 'test.isolated'"),
    "return types": ('"func.func"() <{sym_name = "f", function_type = (i32) -> f32}> ({\n^bb0(%a: i32):\n'
                     '  "func.return"(%a) : (i32) -> ()\n}) : () -> ()\n', "3:3",
                     "'func.return' op returns (i32) but the function declares (f32)"),
    "dominance across isolation": ('%a = "test.effect"() : () -> i32\n"test.isolated"() ({\n'
                                   '  "test.effect"(%a) : (i32) -> ()\n}) : () -> ()\n', "3:3",
                                   "'test.effect' op operand #0 does not dominate this use"),
    "dominance across blocks": ('"test.region"() ({\n^bb0:\n  "test.effect"(%b) : (i32) -> ()\n^bb1(%b: i32):\n'
                                '}) : () -> ()\n', "3:3", "'test.effect' op operand #0 does not dominate this use"),
}


@pytest.mark.parametrize(("source", "where", "message"), VERIFY_ERRORS.values(), ids=VERIFY_ERRORS.keys())
def test_verifier_errors_name_the_op_and_its_location(capsys, tmp_path, source, where, message):
    rc, err, path = run_opt(capsys, tmp_path, source)
    assert rc == 1
    assert err.startswith(f"{path}:{where}: error: {message}")


@pytest.mark.parametrize("cli", [["fmlc-opt"], ["python", "-m", "fmlc"]])
@pytest.mark.parametrize(("source", "where", "message"), [PARSE_ERRORS["syntax"], VERIFY_ERRORS["parent"]])
def test_command_lines_exit_1_without_traceback(tmp_path, cli, source, where, message):
    path = tmp_path / "bad.mlir"
    path.write_text(source)
    cmd = [sys.executable, *cli[1:]] if cli[0] == "python" else [str(BIN / cli[0])]
    proc = subprocess.run([*cmd, str(path), "--load", PLUGIN], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{path}:{where}: error: {message}")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_unregistered_ops_need_the_flag(capsys, tmp_path):
    source = '%0 = "other.op"() {a = #other.attr<1, x>} : () -> !other.type<f32>\n'
    assert run_opt(capsys, tmp_path, source)[0] == 1
    assert opt_main([str(tmp_path / "input.mlir"), "--allow-unregistered-dialect"]) == 0
    assert capsys.readouterr().out == f'"builtin.module"() ({{\n  {source}}}) : () -> ()\n'


PIPELINE_ERRORS = {
    "unknown pass": ("cse,nope", "<pipeline>:1:5: error: unknown pass 'nope'; registered passes: canonicalize, cse"),
    "unknown option": ("canonicalize{bogus=1}", "<pipeline>:1:14: error: pass 'canonicalize' has no option "
                                                "'bogus'; its options: max-iterations"),
    "bad option value": ("canonicalize{max-iterations=abc}",
                         "<pipeline>:1:29: error: option 'max-iterations' of pass 'canonicalize': 'abc' is not an "
                         "integer"),
    "rejected option value": ("canonicalize{max-iterations=0}",
                              "<pipeline>:1:1: error: pass 'canonicalize': max-iterations must be at least 1"),
    "unbalanced": ("func.func(cse", "<pipeline>:1:14: error: expected ')', found end of pipeline"),
}


@pytest.mark.parametrize(("pipeline", "message"), PIPELINE_ERRORS.values(), ids=PIPELINE_ERRORS.keys())
def test_pipeline_errors(capsys, tmp_path, pipeline, message):
    rc, err, _ = run_opt(capsys, tmp_path, '"test.effect"() : () -> ()\n', "-p", pipeline)
    assert rc == 1
    assert err.startswith(message)
    assert err.splitlines()[1] == pipeline


def test_unknown_pass_lists_the_registered_ones(capsys, tmp_path):
    _, err, _ = run_opt(capsys, tmp_path, "", "-p", "nope")
    listed = err.splitlines()[0].split("registered passes: ")[1].split(", ")
    assert {"canonicalize", "cse", "test-break-ir"} <= set(listed) and listed == sorted(listed)


def test_non_converging_rewrite_is_an_error(capsys, tmp_path):
    rc, err, _ = run_opt(capsys, tmp_path, '"test.flip"() <{state = true}> : () -> ()\n',
                         "-p", "canonicalize{max-iterations=3}")
    assert rc == 1
    assert err.startswith("error: pattern rewriting did not converge after 3 iterations; "
                          "patterns still firing: FlipState (")


def test_unreadable_input(capsys, tmp_path):
    rc, err, path = run_opt(capsys, tmp_path, None)
    assert (rc, err) == (1, f"error: cannot read '{path}': No such file or directory\n")
    path.write_bytes(b'"test.effect"() {s = "\xff"} : () -> ()\n')
    rc, err, path = run_opt(capsys, tmp_path, None)
    assert rc == 1 and err.startswith(f"error: cannot read '{path}': ")


@pytest.mark.parametrize("target", ["a_directory", "a_file/out.mlir"])
def test_unwritable_output_leaves_no_partial_file(capsys, tmp_path, target):
    (tmp_path / "a_directory").mkdir()
    (tmp_path / "a_file").write_text("keep")
    before = sorted(tmp_path.rglob("*"))
    rc, err, path = run_opt(capsys, tmp_path, '"test.effect"() : () -> ()\n', "-o", str(tmp_path / target))
    assert rc == 1 and err.startswith(f"error: cannot write '{tmp_path / target}': ")
    assert sorted(tmp_path.rglob("*")) == sorted([*before, path])
    assert (tmp_path / "a_file").read_text() == "keep"
