"""Passes, pipeline strings, nesting, the pass manager and its instruments."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

import pytest
import testdialect  # noqa: F401  (registers the test dialect and test-break-ir)

from fmlc.compiler.ir import Operation
from fmlc.compiler.opt import main as opt_main
from fmlc.compiler.parser import parse_module
from fmlc.compiler.pass_manager import Instrument, PassManager
from fmlc.compiler.passes import Pass, PassContext, PipelineError, parse_pipeline, register_pass
from fmlc.compiler.printer import print_op

SEEN: list[tuple[str, str]] = []  # (pass, op it ran on)


@register_pass
@dataclasses.dataclass(frozen=True)
class OptionsPass(Pass):
    name = "test-options"
    count: int = 1
    enabled: bool = False
    label: str = "x"
    scale: float = 1.0
    mode: Literal["fast", "slow"] = "fast"
    sizes: tuple[int, ...] = ()

    def apply(self, ctx: PassContext, op: Operation) -> None:
        SEEN.append((str(self), op.name))


@register_pass
@dataclasses.dataclass(frozen=True)
class AnchoredPass(Pass):
    name = "test-anchored"
    anchor: ClassVar[str] = "func.func"

    def apply(self, ctx: PassContext, op: Operation) -> None:
        SEEN.append((self.name, op.properties["sym_name"].value))


@pytest.fixture(autouse=True)
def _clear_seen():
    SEEN.clear()


FUNCS = """
%top = "test.pure"() : () -> i32
%top2 = "test.pure"() : () -> i32
"test.effect"(%top, %top2) : (i32, i32) -> ()
"func.func"() <{function_type = () -> (i32, i32), sym_name = "f"}> ({
  %0 = "test.pure"() : () -> i32
  %1 = "test.pure"() : () -> i32
  "func.return"(%0, %1) : (i32, i32) -> ()
}) : () -> ()
"func.func"() <{function_type = () -> (i32, i32), sym_name = "g"}> ({
  %0 = "test.pure"() {k} : () -> i32
  %1 = "test.pure"() {k} : () -> i32
  "func.return"(%0, %1) : (i32, i32) -> ()
}) : () -> ()
"""


@pytest.mark.parametrize(("text", "canonical"), [
    ("cse", "cse"),
    ("test-options,cse{},canonicalize", "test-options,cse,canonicalize"),
    ("test-options{count=2 label=y},cse,test-options", "test-options{count=2 label=y},cse,test-options"),
    (" test-options { count=1  enabled=false mode=fast } , cse", "test-options,cse"),
    ("test-options{count=0x10 enabled=yes scale=2.5 mode=slow sizes=[1,2,3]}",
     "test-options{count=16 enabled=true scale=2.5 mode=slow sizes=1,2,3}"),
    ('test-options{label="a b,{c}" }', 'test-options{label="a b,{c}"}'),
    ('test-options{label=""}', 'test-options{label=""}'),
    ("builtin.module(cse,func.func(canonicalize{max-iterations=3},cse))",
     "cse,func.func(canonicalize{max-iterations=3},cse)"),
    ("", ""),
])
def test_pipelines_print_canonically(text, canonical):
    pipeline = parse_pipeline(text)
    assert str(pipeline) == canonical
    assert parse_pipeline(canonical) == pipeline


def test_options_are_converted_to_their_field_types():
    (p,) = parse_pipeline('test-options{count=-3 enabled=off label="q\\"uote" scale=1e-3 mode=slow sizes=4}').passes()
    assert p == OptionsPass(count=-3, enabled=False, label='q"uote', scale=0.001, mode="slow", sizes=(4,))
    assert str(p) == 'test-options{count=-3 label="q\\"uote" scale=0.001 mode=slow sizes=4}'
    assert parse_pipeline(str(p)).passes() == [p]


@pytest.mark.parametrize(("text", "message"), [
    ("test-options{mode=medium}", "option 'mode' of pass 'test-options': 'medium' is not one of fast, slow"),
    ("test-options{enabled=maybe}", "'maybe' is not a boolean (true/false)"),
    ("test-options{scale=big}", "'big' is not a number"),
    ("test-options{sizes=1,x}", "'x' is not an integer"),
    ("test-options{colour=red}",
     "pass 'test-options' has no option 'colour'; its options: count, enabled, label, scale, mode, sizes"),
    ("test-options{count=1", "unterminated option list, expected '}'"),
    ("cse)", "unexpected ')'"),
])
def test_bad_pipelines(text, message):
    with pytest.raises(PipelineError, match="^<pipeline>:1:[0-9]+: error: ") as e:
        parse_pipeline(text)
    assert message in str(e.value)


def test_register_pass_wants_a_named_frozen_dataclass():
    with pytest.raises(TypeError, match="pass test-plain must be a frozen dataclass"):
        register_pass(type("Plain", (), {"name": "test-plain"}))
    with pytest.raises(TypeError, match="has no pass name"):
        register_pass(dataclasses.dataclass(frozen=True)(type("Nameless", (Pass,), {})))


def test_nested_pipelines_run_on_each_anchor_op():
    module = parse_module(FUNCS)
    PassManager(parse_pipeline("builtin.module(func.func(cse,test-anchored),test-options)")).run(module)
    assert SEEN == [("test-anchored", "f"), ("test-anchored", "g"), ("test-options", "builtin.module")]
    text = print_op(module)
    assert text.count('"test.pure"() : () -> i32') == 3  # two at the top level, one left in f
    assert text.count('"test.pure"() {k} : () -> i32') == 1
    assert '"func.return"(%0, %0)' in text and '"func.return"(%1, %1)' in text


def test_anchor_mismatch_is_an_error():
    with pytest.raises(PipelineError, match=r"pass 'test-anchored' runs on 'func.func', not on 'builtin.module'; "
                                            r"nest it as func.func\(test-anchored\)"):
        PassManager(parse_pipeline("test-anchored")).run(parse_module(FUNCS))


def test_instruments_see_every_pass_in_order():
    class Log(Instrument):
        def __init__(self) -> None:
            self.log: list[str] = []

        def before_pass(self, p, op):
            self.log.append(f"before {p} on {op.name}")

        def after_pass(self, p, op):
            self.log.append(f"after {p}")

        def after_pipeline(self, module):
            self.log.append("done")

    log = Log()
    PassManager(parse_pipeline("test-options{count=2},func.func(cse)"), instruments=[log]).run(parse_module(FUNCS))
    assert log.log == ["before test-options{count=2} on builtin.module", "after test-options{count=2}",
                       "before cse on func.func", "after cse", "before cse on func.func", "after cse", "done"]


@pytest.fixture
def funcs_file(tmp_path):
    path = tmp_path / "in.mlir"
    path.write_text(FUNCS)
    return path


def test_ir_dump_dir_writes_numbered_files(capsys, tmp_path, funcs_file):
    dump = tmp_path / "dump"
    assert opt_main([str(funcs_file), "-p", "test-options,func.func(cse)", "--ir-dump-dir", str(dump)]) == 0
    out = capsys.readouterr().out
    names = sorted(p.name for p in dump.iterdir())
    assert names == ["000_input.mlir", "001_test-options.mlir", "002_cse.mlir", "003_cse.mlir"]
    assert (dump / "000_input.mlir").read_text() == print_op(parse_module(FUNCS))
    assert (dump / "003_cse.mlir").read_text() == out
    assert (dump / "002_cse.mlir").read_text() != out  # g was not cse'd yet


def test_time_passes_prints_a_table(capsys, funcs_file):
    assert opt_main([str(funcs_file), "-p", "cse,test-options{count=2}", "--time-passes"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert lines[1].strip() == "Pass execution timing report"
    assert [line.split()[-1] for line in lines[4:]] == ["cse", "test-options{count=2}", "Total"]
    assert lines[-1].split()[1] == "100.0%"


def test_print_ir_before_a_named_pass(capsys, funcs_file):
    assert opt_main([str(funcs_file), "-p", "test-options,cse", "--print-ir-before=cse"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("// -----// IR Dump Before cse (builtin.module) //----- //\n")
    assert captured.err.count("IR Dump") == 1
    assert captured.err.split("\n", 1)[1] == print_op(parse_module(FUNCS)) + "\n"


def test_verify_each_catches_a_pass_that_breaks_the_ir(capsys, funcs_file):
    assert opt_main([str(funcs_file), "-p", "test-break-ir"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{funcs_file}:5:1: error: 'func.func' op requires property 'sym_name'\n")
    assert err.endswith("note: the IR is invalid after pass 'test-break-ir'\n")
    assert opt_main([str(funcs_file), "-p", "test-break-ir", "--no-verify-each"]) == 0
    assert "sym_name" not in capsys.readouterr().out


def test_list_passes_and_print_pipeline(capsys):
    assert opt_main(["--list-passes"]) == 0
    listing = capsys.readouterr().out
    assert "  test-options{count=1 enabled=false label=x scale=1.0 mode=fast sizes=}" in listing
    assert "  canonicalize{max-iterations=10}  simplify" in listing
    assert opt_main(["-p", "builtin.module(cse, func.func(canonicalize{max-iterations=10}))",
                     "--print-pipeline"]) == 0
    assert capsys.readouterr().out == "cse,func.func(canonicalize)\n"
