"""Identifier legalisation: hostile model names become legal, unique, readable C++ names."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fmlc.codegen.cpp import (
    INT,
    VOID,
    Assign,
    BinOp,
    Call,
    Comment,
    CType,
    ExprStmt,
    Field,
    For,
    Function,
    Guard,
    Include,
    Index,
    Int,
    Member,
    Name,
    Param,
    Pragma,
    Return,
    Str,
    Struct,
    TranslationUnit,
    Typedef,
    TypeName,
    VarDecl,
)
from fmlc.codegen.cpp_print import CPP_KEYWORDS, CodegenError, print_unit
from fmlc.codegen.legalize import LIBRARY_NAMES, MAX_LENGTH, is_usable, legal_identifier, legalize

IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def usable(name: str) -> bool:
    """Checked independently of the module under test."""
    return (IDENT.fullmatch(name) is not None and "__" not in name and len(name) <= MAX_LENGTH
            and name not in CPP_KEYWORDS and name not in LIBRARY_NAMES)


@pytest.mark.parametrize(("raw", "legal"), [
    ("layer1_dense", "layer1_dense"),
    ("x.185", "x_185"),
    ("/layer/Gemm_output_0", "layer_Gemm_output_0"),
    ('"; system("rm -rf /"); //', "system_rm_rf"),
    ("a\nb", "a_b"),
    ("a */ b", "a_b"),
    ("back\\slash\\", "back_slash"),
    ("int", "int_"),
    ("and", "and_"),
    ("not", "not_"),
    ("char16_t", "char16_t_"),
    ("main", "main_"),
    ("std", "std_"),
    ("ap_fixed", "ap_fixed_"),
    ("NULL", "NULL_"),
    ("int.", "int_"),
    ("123abc", "v_123abc"),
    ("0", "v_0"),
    ("café", "caf"),
    ("日本", "v"),
    ("__x", "x"),
    ("_Reserved", "Reserved"),
    ("a__b", "a_b"),
    ("a_.b", "a_b"),
    ("", "v"),
    ("...", "v"),
    ("x" * 100, "x" * MAX_LENGTH),
    ("a" + "_" * 58 + "bc", "a_bc"),
    ("a" * 59 + ".b", "a" * 59),
])
def test_legal_identifier(raw: str, legal: str) -> None:
    taken: set[str] = set()
    assert legal_identifier(raw, taken) == legal
    assert taken == {legal}
    assert usable(legal) and is_usable(legal)


def test_taken_names_get_numbered_suffixes() -> None:
    taken = {"a_b", "int_", "x" * MAX_LENGTH}
    assert legal_identifier("a.b", taken) == "a_b_2"
    assert legal_identifier("a-b", taken) == "a_b_3"
    assert legal_identifier("int", taken) == "int_2"  # no "__" from the keyword suffix
    long = legal_identifier("x" * 80, taken)
    assert long == "x" * (MAX_LENGTH - 2) + "_2" and len(long) == MAX_LENGTH
    assert {"a_b_2", "a_b_3", "int_2", long} <= taken


def test_usable_is_strict() -> None:
    assert is_usable("layer1_dense")
    for bad in ("", "1a", "_a", "a__b", "a-b", "int", "main", "x" * (MAX_LENGTH + 1), "é"):
        assert not is_usable(bad), bad


# ----------------------------------------------------------------------------- legalize

def fn(name: str, *body: object, params: tuple[Param, ...] = ()) -> Function:
    return Function(VOID, name, params, body)  # type: ignore[arg-type]


def one(*items: object) -> TranslationUnit:
    return legalize({"a.cpp": TranslationUnit(items)})["a.cpp"]  # type: ignore[arg-type]


def test_collisions_in_order_of_first_declaration() -> None:
    out = one(VarDecl(INT, "a.b"), VarDecl(INT, "a-b"), VarDecl(INT, "a b"))
    assert [d.name for d in out.items] == ["a_b", "a_b_2", "a_b_3"]


def test_legal_names_keep_their_spelling() -> None:
    # "x.1" cleans to "x_1", which a later declaration already uses: the legal one wins
    out = one(VarDecl(INT, "x.1"), VarDecl(INT, "x_1"), VarDecl(INT, "int"), VarDecl(INT, "int_"))
    assert [d.name for d in out.items] == ["x_1_2", "x_1", "int_2", "int_"]


def test_references_follow_declarations_across_files() -> None:
    header = TranslationUnit((
        Guard("model.h", (Typedef(CType("ap_fixed", (8, 3)), "t/0"),
                          Function(VOID, "top-fn", (Param(TypeName("t/0"), "in.0", (4,)),), None))),
    ))
    source = TranslationUnit((
        Include("model.h"),
        Function(VOID, "top-fn", (Param(TypeName("t/0"), "in.0", (4,)),), (
            For("i", Int(0), Int(4), label="loop.1", pragmas=(Pragma("ARRAY_PARTITION", (("variable",
                                                                                          Name("in.0")),)),),
                body=(Assign(Index(Name("in.0"), Name("i")), Int(0)),)),
        )),
    ))
    out = legalize({"model.h": header, "model.cpp": source})
    assert list(out) == ["model.h", "model.cpp"]
    assert print_unit(out["model.h"]) == (
        "#ifndef model_h\n#define model_h\n\ntypedef ap_fixed<8,3> t_0;\n\nvoid top_fn(t_0 in_0[4]);\n\n#endif\n"
    )
    assert print_unit(out["model.cpp"]) == (
        '#include "model.h"\n\n'
        "void top_fn(t_0 in_0[4]) {\n"
        "    loop_1: for (int i = 0; i < 4; i++) {\n"
        "        #pragma HLS ARRAY_PARTITION variable=in_0\n"
        "        in_0[i] = 0;\n"
        "    }\n"
        "}\n"
    )


def test_same_raw_name_maps_to_one_identifier() -> None:
    loop = For("i.0", Int(0), Int(2), (ExprStmt(Name("i.0")),))
    out = one(fn("f", loop), fn("g", loop))
    assert [f.body[0].var for f in out.items] == ["i_0", "i_0"]
    assert [f.body[0].body[0].expr.id for f in out.items] == ["i_0", "i_0"]


def test_undeclared_reference_is_an_error() -> None:
    with pytest.raises(CodegenError, match="'ghost.1'"):
        one(fn("f", ExprStmt(Name("ghost.1"))))
    with pytest.raises(CodegenError, match="'ghost_t'"):
        one(VarDecl(TypeName("ghost_t"), "x"))


def test_guard_must_not_share_a_name() -> None:
    with pytest.raises(CodegenError, match="'model'"):
        one(Guard("model", (fn("model"),)))


def test_external_names_are_kept_and_not_shadowed() -> None:
    out = one(fn("relu", ExprStmt(Call(Name("relu", external=True), (Int(1),)))),
              fn("hls", ExprStmt(Call(Name("hls::exp", external=True), ()))),
              VarDecl(CType("ap_fixed", (8, 3, "AP_TRN_ZERO")), "AP_TRN_ZERO"))
    assert [i.name for i in out.items] == ["relu_2", "hls_", "AP_TRN_ZERO_2"]
    assert out.items[0].body[0].expr.func == Name("relu", external=True)
    assert out.items[1].body[0].expr.func == Name("hls::exp", external=True)


def test_struct_fields_and_members() -> None:
    out = one(
        Struct("beat-t", (Field(INT, "data"), Field(INT, "x.y"))),
        fn("f", Assign(Member(Name("b"), "data"), Member(Name("b"), "x.y")),
           ExprStmt(Call(Member(Name("s"), "read"), ())),
           params=(Param(TypeName("beat-t"), "b", ref=True), Param(CType("hls::stream", (INT,)), "s", ref=True))),
    )
    assert print_unit(out) == (
        "struct beat_t {\n    int data_;\n    int x_y;\n};\n\n"
        "void f(beat_t& b, hls::stream<int>& s) {\n    b.data_ = b.x_y;\n    s.read();\n}\n"
    )


def test_input_is_not_modified_and_result_is_deterministic() -> None:
    units = {"a.cpp": TranslationUnit((VarDecl(INT, "x.1"), VarDecl(INT, "x-1")))}
    first, second = legalize(units), legalize(units)
    assert first == second
    assert units["a.cpp"].items[0].name == "x.1"


# ----------------------------------------------------------------------------- hostile names

HOSTILE = [
    '"; system("rm -rf /"); //', "*/ int x; /*", "a\\", "\\\n#define x", "\n", "\r\n", "\x00", "??/",
    "int", "class", "main", "__init", "_X", "9", "", " ", "é", "\u202e", "\U0001f600", "x" * 500,
    "a.b", "a-b", "a_b", "std::vector<int>", "#pragma HLS", "\t\t", "a\u2028b",
]

_NAMES = st.lists(st.text(), min_size=1, max_size=8, unique=True)


def program(names: list[str]) -> TranslationUnit:
    """Globals named ``names`` and a function reading the first and the last of them."""
    first, last = Name(names[0]), Name(names[-1])
    return TranslationUnit((
        *(VarDecl(INT, n, init=Int(k)) for k, n in enumerate(names)),
        Function(INT, "f", (Param(INT, names[0]),), (Return(BinOp("+", first, last)),)),
    ))


@given(_NAMES)
@example(HOSTILE)
@example(["a.b", "a-b", "a b", "a_b", "a_b_2"])
@example(["x" * 61, "x" * 62, "x" * 60])
@example(["f", "f.", "f_2"])
def test_hostile_names_never_reach_the_text(names: list[str]) -> None:
    out = legalize({"a.cpp": program(names)})["a.cpp"]
    text = print_unit(out)  # never raises
    mapped = [d.name for d in out.items[:-1]]
    assert len(set(mapped)) == len(mapped)
    assert all(usable(m) for m in mapped)
    f = out.items[-1].name  # the function: the same raw name "f" maps to the same identifier
    assert f == "f" and (f not in mapped or names[mapped.index(f)] == "f")
    expected = "".join(f"int {m} = {k};\n" for k, m in enumerate(mapped))
    expected += f"\nint f(int {mapped[0]}) {{\n    return {mapped[0]} + {mapped[-1]};\n}}\n"
    assert text == expected  # structure intact: nothing from a name leaked into the text
    assert set(text) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ =;\n(){}+")


def test_legalised_hostile_program_compiles() -> None:
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ not found")
    names = HOSTILE + ["printf", "size_t", "int64_t", "FILE", "assert", "and_eq", "f.1", "f_1"]
    unit = TranslationUnit((
        Include("cstdio", system=True), Include("cstdint", system=True), Include("cassert", system=True),
        Comment("names: " + " | ".join(names)),
        Typedef(INT, "count.t"),
        *(VarDecl(TypeName("count.t"), n, init=Int(k)) for k, n in enumerate(names)),
        Function(INT, "run", (), (
            VarDecl(INT, "sum", init=Int(0)),
            *(Assign(Name("sum"), Name(n), "+=") for n in names),
            ExprStmt(Call(Name("std::printf", external=True), (Str("%d\n"), Name("sum")))),
            Return(Name("sum")),
        )),
    ))
    text = print_unit(legalize({"a.cpp": unit})["a.cpp"])
    flags = ["-fsyntax-only", "-std=c++11", "-trigraphs", "-Wall", "-Werror", "-x", "c++", "-"]
    done = subprocess.run([gxx, *flags], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr + text
