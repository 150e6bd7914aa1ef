"""The C++ printer: exact text for every node kind, and refusal of illegal leaves."""

from __future__ import annotations

import shutil
import subprocess
import textwrap

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fmlc.codegen import cpp
from fmlc.codegen.cpp import (
    INT,
    VOID,
    Assign,
    BinOp,
    Call,
    Cast,
    Comment,
    CType,
    ExprStmt,
    ExternC,
    Field,
    Float,
    For,
    Function,
    Guard,
    If,
    Include,
    Index,
    InitList,
    Int,
    Member,
    Name,
    Param,
    Pragma,
    Return,
    Scope,
    Str,
    Struct,
    Ternary,
    TranslationUnit,
    Typedef,
    TypeName,
    Unary,
    VarDecl,
)
from fmlc.codegen.cpp_print import CodegenError, comment_text, print_expr, print_type, print_unit
from fmlc.compiler.diagnostics import FmlcError

FIX = CType("ap_fixed", (8, 3, "AP_RND_CONV", "AP_SAT"))


def unit(*items: cpp.TopLevel) -> str:
    return print_unit(TranslationUnit(items))


def body(*stmts: cpp.Stmt) -> str:
    """The printed lines of a ``void f()`` body holding ``stmts``, one indent level removed."""
    text = unit(Function(VOID, "f", (), stmts))
    assert text.startswith("void f() {\n") and text.endswith("\n}\n")
    return textwrap.dedent(text.removeprefix("void f() {\n").removesuffix("}\n"))


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ----------------------------------------------------------------------------- types and expressions

def test_types() -> None:
    assert print_type(INT) == "int"
    assert print_type(FIX) == "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"
    assert print_type(CType("hls::stream", (CType("ap_uint", (8,)),))) == "hls::stream<ap_uint<8>>"
    assert print_type(CType("hls::stream", (TypeName("beat_t"),))) == "hls::stream<beat_t>"
    assert print_type(CType("ap_fixed", (8, -2))) == "ap_fixed<8,-2>"
    assert print_type(TypeName("t0")) == "t0"
    assert print_type(CType("unsigned long long")) == "unsigned long long"


def test_literals() -> None:
    assert print_expr(Int(3)) == "3"
    assert print_expr(Int(-3, "LL")) == "-3LL"
    assert print_expr(Int(2**64 - 1, "ULL")) == "18446744073709551615ULL"
    assert print_expr(Int(-(2**63), "LL")) == "(-9223372036854775807LL - 1)"
    assert print_expr(Float(0.5)) == "0.5"
    assert print_expr(Float(2.0)) == "2.0"
    assert print_expr(Float(1e20)) == "1.0e+20"
    assert print_expr(Float(-1.25e-7)) == "-1.25e-07"
    assert print_expr(Float(0.1)) == "0.1"
    assert print_expr(Str("plain")) == '"plain"'


def test_string_escapes() -> None:
    assert print_expr(Str('a"b\\c\nd\te\r')) == r'"a\"b\\c\nd\te\r"'
    assert print_expr(Str("\x00" + "1")) == r'"\0001"'  # always 3 octal digits: the 1 stays a 1
    assert print_expr(Str("café")) == r'"caf\303\251"'
    assert print_expr(Str("what??/")) == r'"what\?\?/"'  # no trigraph
    assert print_expr(Str("*/ // /*")) == '"*/ // /*"'


def test_operators_and_parenthesisation() -> None:
    a, b, c = Name("a"), Name("b"), Name("c")
    assert print_expr(BinOp("+", a, b)) == "a + b"
    assert print_expr(BinOp("*", BinOp("+", a, b), c)) == "(a + b) * c"
    assert print_expr(BinOp("-", a, BinOp("-", b, c))) == "a - (b - c)"
    assert print_expr(BinOp("-", a, Int(-1))) == "a - (-1)"
    assert print_expr(BinOp("*", Float(-0.5), a)) == "(-0.5) * a"
    assert print_expr(BinOp("<<", a, Unary("-", b))) == "a << (-b)"
    assert print_expr(Unary("-", Unary("-", a))) == "-(-a)"  # never the decrement operator
    assert print_expr(Unary("-", Int(-2))) == "-(-2)"
    assert print_expr(Unary("!", BinOp("&&", a, b))) == "!(a && b)"
    assert print_expr(Unary("&", Index(a, Int(0)))) == "&a[0]"
    assert print_expr(Ternary(BinOp(">", a, Int(0)), a, Unary("-", a))) == "(a > 0) ? a : (-a)"
    assert print_expr(Index(BinOp("+", a, b), Int(1))) == "(a + b)[1]"


def test_postfix_and_casts() -> None:
    a = Name("a")
    assert print_expr(Index(Index(a, Int(1)), Name("i"))) == "a[1][i]"
    assert print_expr(Member(a, "data")) == "a.data"
    assert print_expr(Member(a, "last", arrow=True)) == "a->last"
    assert print_expr(Call(Member(Name("s"), "read"), ())) == "s.read()"
    assert print_expr(Call(Name("std::printf", external=True), (Str("%d\n"), a))) == r'std::printf("%d\n", a)'
    assert print_expr(Call(Name("sizeof", external=True), (a,))) == "sizeof(a)"
    assert print_expr(Cast(FIX, BinOp("+", a, Int(1)))) == "ap_fixed<8,3,AP_RND_CONV,AP_SAT>(a + 1)"
    assert print_expr(Cast(INT, a)) == "int(a)"
    assert print_expr(Index(Cast(CType("long long"), a), Int(0))) == "static_cast<long long>(a)[0]"
    assert print_expr(BinOp("*", Cast(TypeName("acc_t"), a), Cast(TypeName("acc_t"), Name("b")))) == (
        "acc_t(a) * acc_t(b)"
    )
    assert print_expr(InitList((Int(1), InitList((Int(2), Int(3)))))) == "{1, {2, 3}}"


# ----------------------------------------------------------------------------- statements

def test_function_with_pipelined_loop() -> None:
    f = Function(
        VOID,
        "dense",
        (Param(TypeName("in_t"), "x", (16,), const=True), Param(TypeName("out_t"), "y", (4,))),
        (
            For("j", Int(0), Int(4), label="outer", pragmas=(Pragma("PIPELINE", (("II", 1),)),), body=(
                VarDecl(TypeName("acc_t"), "acc", init=Int(0)),
                For("i", Int(0), Int(16), step=2, pragmas=(Pragma("UNROLL"),), body=(
                    Assign(Name("acc"), BinOp("*", Index(Name("x"), Name("i")), Index(Index(Name("w"), Name("j")),
                                                                                      Name("i"))), "+="),
                )),
                Assign(Index(Name("y"), Name("j")), Cast(TypeName("out_t"), Name("acc"))),
            )),
        ),
        pragmas=(Pragma("INLINE", ("off",)), Pragma("ARRAY_PARTITION", (("variable", Name("x")), "complete",
                                                                          ("dim", 1)))),
    )
    assert unit(f) == dedent("""
        void dense(const in_t x[16], out_t y[4]) {
            #pragma HLS INLINE off
            #pragma HLS ARRAY_PARTITION variable=x complete dim=1
            outer: for (int j = 0; j < 4; j++) {
                #pragma HLS PIPELINE II=1
                acc_t acc = 0;
                for (int i = 0; i < 16; i += 2) {
                    #pragma HLS UNROLL
                    acc += x[i] * w[j][i];
                }
                y[j] = out_t(acc);
            }
        }
        """)


def test_loop_bound_expression_is_parenthesised() -> None:
    loop = For("i", Int(1), BinOp("-", Name("n"), Int(1)), ())
    assert body(loop) == "for (int i = 1; i < (n - 1); i++) {\n}\n"


def test_if_else_chains_and_scopes() -> None:
    a = Name("a")
    stmt = If(BinOp("<", a, Int(0)), (Assign(a, Int(0)),),
              (If(BinOp(">", a, Int(9)), (Assign(a, Int(9)),),
                  (If(Name("b"), (Scope((ExprStmt(Call(Name("g"))),)),), (Return(),)),)),))
    assert body(stmt, If(a, (Return(a),))) == dedent("""
            if (a < 0) {
                a = 0;
            } else if (a > 9) {
                a = 9;
            } else if (b) {
                {
                    g();
                }
            } else {
                return;
            }
            if (a) {
                return a;
            }
        """)


def test_nested_else_with_more_than_one_statement_is_not_a_chain() -> None:
    stmt = If(Name("a"), (), (If(Name("b"), ()), Return()))
    assert body(stmt) == dedent("""
            if (a) {
            } else {
                if (b) {
                }
                return;
            }
        """)


def test_statement_pragmas_and_comments_print_in_place() -> None:
    stmts = (Comment("start"), Pragma("DATAFLOW"), VarDecl(INT, "t", static=True), Assign(Name("t"), Int(1), "<<="))
    assert body(*stmts) == "// start\n#pragma HLS DATAFLOW\nstatic int t;\nt <<= 1;\n"


def test_var_decls_and_initialiser_wrapping() -> None:
    small = VarDecl(INT, "s", (3,), InitList((Int(1), Int(2), Int(3))), static=True, const=True)
    grid = VarDecl(FIX, "g", (2, 2), InitList((InitList((Int(1), Int(2))), InitList((Int(3), Int(4))))), const=True)
    long = VarDecl(INT, "w", (20,), InitList(tuple(Int(i) for i in range(20))))
    assert unit(small) == "static const int s[3] = {1, 2, 3};\n"
    assert unit(grid) == dedent("""
        const ap_fixed<8,3,AP_RND_CONV,AP_SAT> g[2][2] = {
            {1, 2},
            {3, 4},
        };
        """)
    assert unit(long) == dedent("""
        int w[20] = {
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
            16, 17, 18, 19,
        };
        """)
    # nested wrapping inside a function keeps the statement's indentation
    deep = VarDecl(INT, "d", (1, 17), InitList((InitList(tuple(Int(1) for _ in range(17))),)))
    ones = ", ".join(["1"] * 16)
    assert unit(Function(VOID, "f", (), (deep,))) == dedent(f"""
        void f() {{
            int d[1][17] = {{
                {{
                    {ones},
                    1,
                }},
            }};
        }}
        """)


def test_params() -> None:
    f = Function(INT, "f", (
        Param(INT, "a"), Param(INT, "b", ref=True), Param(INT, "c", ref=True, const=True),
        Param(INT, "d", (2, 3), const=True), Param(INT, "e", (4,), ref=True),
        Param(CType("hls::stream", (TypeName("beat_t"),)), "s", ref=True),
    ), None, static=True, inline=True)
    assert unit(f) == (
        "static inline int f(int a, int& b, const int& c, const int d[2][3], int (&e)[4], hls::stream<beat_t>& s);\n"
    )


# ----------------------------------------------------------------------------- top level

def test_header_layout() -> None:
    text = unit(Guard("MODEL_H", (
        Include("ap_fixed.h"), Include("hls_stream.h"), Include("cstdint", system=True),
        Typedef(FIX, "t0"), Typedef(TypeName("t0"), "t1"),
        Struct("beat_t", (Field(CType("ap_uint", (64,)), "data"), Field(INT, "keep", (8,)))),
        Comment("the top function"),
        ExternC((Function(VOID, "top", (Param(TypeName("t0"), "x", (4,), const=True),), None),
                 Function(VOID, "reset", (), None))),
    )))
    assert text == dedent("""
        #ifndef MODEL_H
        #define MODEL_H

        #include "ap_fixed.h"
        #include "hls_stream.h"
        #include <cstdint>

        typedef ap_fixed<8,3,AP_RND_CONV,AP_SAT> t0;
        typedef t0 t1;

        struct beat_t {
            ap_uint<64> data;
            int keep[8];
        };

        // the top function
        extern "C" {
        void top(const t0 x[4]);
        void reset();
        }

        #endif
        """)


def test_blank_lines_between_functions() -> None:
    g = Function(INT, "g", (), (Return(Int(1)),))
    text = unit(Include("a.h"), VarDecl(INT, "k", init=Int(0)), g, Function(VOID, "h", (), ()),
                Function(VOID, "h2", (), None), Function(VOID, "h3", (), None), g)
    assert text == dedent("""
        #include "a.h"

        int k = 0;

        int g() {
            return 1;
        }

        void h() {
        }

        void h2();
        void h3();

        int g() {
            return 1;
        }
        """)


def test_empty_guard_and_unit() -> None:
    assert unit() == "\n"
    assert unit(Guard("G", ())) == "#ifndef G\n#define G\n#endif\n"


# ----------------------------------------------------------------------------- comments

@pytest.mark.parametrize(("text", "printed"), [
    ("plain", "// plain"),
    ("two\nlines\r\nhere", "// two lines  here"),
    ("ends in backslash \\", "// ends in backslash"),
    ("ends in \\ \\  \t", "// ends in"),
    ("closes */ opens /*", "// closes * / opens /*"),
    ("trigraph ??/", "// trigraph ? ?/"),
    ("bidi \u202e override \u2028 sep", "// bidi   override   sep"),
    ("", "//"),
    ("\n", "//"),
    ("café ok", "// café ok"),
])
def test_comment_text(text: str, printed: str) -> None:
    assert comment_text(text) == printed
    assert unit(Comment(text)) == printed + "\n"


@given(st.text())
@example("a ??/")
@example("x */ \\\n\\")
def test_any_comment_is_one_harmless_line(text: str) -> None:
    line = comment_text(text)
    assert line.startswith("//")
    assert "\n" not in line and "\r" not in line and all(c.isprintable() for c in line)
    assert "*/" not in line and "??" not in line and not line.endswith("\\")
    assert unit(Comment(text)).count("\n") == 1


def _unescape(literal: str) -> bytes:
    """Decode the escapes the printer writes (the inverse of its string escaping)."""
    assert literal[0] == literal[-1] == '"'
    out, i, s = bytearray(), 0, literal[1:-1]
    simple = {"\\": b"\\", '"': b'"', "n": b"\n", "t": b"\t", "r": b"\r", "?": b"?"}
    while i < len(s):
        if s[i] != "\\":
            assert s[i] != '"' and 0x20 <= ord(s[i]) < 0x7F
            out += s[i].encode()
            i += 1
        elif s[i + 1] in simple:
            out += simple[s[i + 1]]
            i += 2
        else:
            out.append(int(s[i + 1 : i + 4], 8))
            i += 4
    return bytes(out)


@given(st.text())
@example("??/")
@example("???=?")
@example("\x00" + "7")
def test_any_string_literal_round_trips(text: str) -> None:
    literal = print_expr(Str(text))
    assert literal.isascii() and "??" not in literal
    assert _unescape(literal) == text.encode()


# ----------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("node", [
    VarDecl(INT, "int"),
    VarDecl(INT, "a b"),
    VarDecl(INT, "x;\nsystem()"),
    VarDecl(INT, "9lives"),
    VarDecl(INT, ""),
    VarDecl(INT, "café"),
    VarDecl(INT, "ok", (0,)),
    VarDecl(INT, "ok", init=Name("x.1")),
    VarDecl(INT, "ok", init=Name("not")),
    VarDecl(INT, "ok", init=Name("std::and", external=True)),
    VarDecl(INT, "ok", init=Name("a;b", external=True)),
    VarDecl(INT, "ok", init=Member(Name("a"), "b c")),
    VarDecl(INT, "ok", init=Int(True)),
    VarDecl(INT, "ok", init=Int(2**64)),
    VarDecl(INT, "ok", init=Int(1, "u8")),
    VarDecl(INT, "ok", init=Float(float("nan"))),
    VarDecl(INT, "ok", init=Float("1.0; evil()")),  # type: ignore[arg-type]
    VarDecl(INT, "ok", init=BinOp(",", Name("a"), Name("b"))),
    VarDecl(INT, "ok", init=Unary("++", Name("a"))),
    VarDecl(INT, "ok", init=Str("\ud800")),
    VarDecl(CType("int; evil"), "ok"),
    VarDecl(CType("return"), "ok"),
    VarDecl(CType("int", (8,)), "ok"),
    VarDecl(CType("long  long"), "ok"),
    VarDecl(CType("long ap_int"), "ok"),
    VarDecl(CType(" int"), "ok"),
    VarDecl(CType("ap_fixed", (8, "3>evil")), "ok"),
    VarDecl(CType("ap_fixed", (8, 3.0)), "ok"),  # type: ignore[arg-type]
    VarDecl(TypeName("t.0"), "ok"),
    Typedef(INT, "class"),
    Struct("s", (Field(INT, "f-1"),)),
    Struct("s s", ()),
    Function(VOID, "f()", (), ()),
    Function(VOID, "f", (Param(INT, "x y"),), ()),
    Function(VOID, "f", (), None, pragmas=(Pragma("INLINE"),)),
    Function(VOID, "f", (), (Assign(Name("a"), Name("b"), "*="),)),
    Function(VOID, "f", (), (For("i i", Int(0), Int(1), ()),)),
    Function(VOID, "f", (), (For("i", Int(0), Int(1), (), label="do"),)),
    Function(VOID, "f", (), (For("i", Int(0), Int(1), (), step=0),)),
    Function(VOID, "f", (), (Pragma("PIPELINE II=1\nint x"),)),
    Function(VOID, "f", (), (Pragma("PIPELINE", ("II = 1",)),)),
    Function(VOID, "f", (), (Pragma("PIPELINE", (("II", "1;"),)),)),
    Function(VOID, "f", (), (Pragma("PIPELINE", (("II", 1.5),)),)),
    Function(VOID, "f", (), (Include("x.h"),)),  # type: ignore[arg-type]
    Guard("G-H", ()),
    Include("../secret.h"),
    Include("a/../../b.h"),
    Include('x.h"\n#include "y.h'),
    Include("x.h>"),
    Include(""),
    Assign(Name("a"), Name("b")),  # type: ignore[arg-type]
    Pragma("DATAFLOW"),  # type: ignore[arg-type]
])
def test_refusals(node: object) -> None:
    with pytest.raises(CodegenError):
        unit(node)  # type: ignore[arg-type]


def test_codegen_error_is_a_user_error() -> None:
    assert issubclass(CodegenError, FmlcError)
    with pytest.raises(CodegenError, match="'x.1'"):
        print_expr(Name("x.1"))


def test_pragma_words_may_be_keywords() -> None:
    assert body(Pragma("INTERFACE", (("mode", "ap_ctrl_none"), ("port", "return")))) == (
        "#pragma HLS INTERFACE mode=ap_ctrl_none port=return\n"
    )


def test_external_names_may_be_qualified() -> None:
    assert print_expr(Name("hls::abs", external=True)) == "hls::abs"
    assert print_expr(Name("true", external=True)) == "true"


# ----------------------------------------------------------------------------- g++

def _gxx(text: str, *flags: str) -> subprocess.CompletedProcess[str]:
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.skip("g++ not found")
    return subprocess.run([gxx, *flags, "-x", "c++", "-"], input=text, capture_output=True, text=True, timeout=60)


def sample_unit() -> TranslationUnit:
    """Every node kind, on builtin types (no HLS headers needed)."""
    f32, acc = CType("float"), TypeName("acc_t")
    a, i = Name("a"), Name("i")
    return TranslationUnit((
        Guard("SAMPLE_H", (
            Include("cstdio", system=True),
            Comment("hostile */ comment \\"),
            Comment("more ??/"),
            Typedef(CType("long"), "acc_t"),
            Struct("pair_t", (Field(INT, "first"), Field(f32, "second", (2,)))),
            VarDecl(f32, "w", (2, 17), InitList((InitList(tuple(Float(k / 3) for k in range(17))),
                                                 InitList(tuple(Float(-k * 1e30) for k in range(17))))),
                    static=True, const=True),
            ExternC((Function(INT, "top", (Param(INT, "x", (4,), const=True), Param(INT, "y", ref=True)), None),)),
            Function(acc, "helper", (Param(acc, "v"),), (Return(Ternary(BinOp(">", Name("v"), Int(0)), Name("v"),
                                                                          Unary("-", Name("v")))),),
                     static=True, inline=True),
            Function(INT, "top", (Param(INT, "x", (4,), const=True), Param(INT, "y", ref=True)), (
                VarDecl(acc, "a", init=Int(-(2**63), "LL")),
                VarDecl(CType("unsigned long long"), "u", init=Cast(CType("long long"), Name("a"))),
                VarDecl(TypeName("pair_t"), "p"),
                Assign(Member(Name("p"), "first"), Int(1)),
                For("i", Int(0), Int(4), label="loop", pragmas=(Pragma("PIPELINE", (("II", 1),)),), body=(
                    If(BinOp("<", Index(Name("x"), i), Int(0)),
                       (Assign(a, Unary("-", Unary("-", Cast(acc, Index(Name("x"), i)))), "-="),),
                       (Assign(a, BinOp("*", BinOp("+", a, Int(1)), Int(-2)), "+="),)),
                    Scope((ExprStmt(Call(Name("std::printf", external=True),
                                         (Str("%s|%s\n"), Str('"quoted" \\ \n??/ é\0 */'), Str("")))),)),
                )),
                Assign(Name("y"), Cast(INT, Call(Name("helper"), (a,)))),
                Return(Int(0)),
            ), pragmas=(Pragma("INTERFACE", (("port", "return"), ("mode", "s_axilite"))),)),
        )),
    ))


@pytest.mark.parametrize("std", ["c++11", "c++14", "c++17"])
def test_printed_unit_is_valid_cpp(std: str) -> None:
    text = print_unit(sample_unit())
    done = _gxx(text, "-fsyntax-only", f"-std={std}", "-trigraphs", "-Wall", "-Werror", "-Wno-unknown-pragmas",
                "-Wno-unused-variable", "-Wno-unused-but-set-variable", "-Wno-unused-label", "-Wno-unused-function")
    assert done.returncode == 0, done.stderr


def test_string_literal_bytes_survive_compilation(tmp_path: object) -> None:
    text = "quote\" back\\slash \n\t\r nul\0 digit\0017 ??/ ??= é \u202e \U0001f600 */"
    main = TranslationUnit((
        Include("cstdio", system=True),
        Function(INT, "main", (), (
            VarDecl(CType("char"), "s", (len(text.encode()) + 1,), Str(text), static=True, const=True),
            ExprStmt(Call(Name("std::fwrite", external=True), (Name("s"), Int(1),
                                                               BinOp("-", Call(Name("sizeof", external=True),
                                                                               (Name("s"),)), Int(1)),
                                                               Name("stdout", external=True)))),
            Return(Int(0)),
        )),
    ))
    exe = f"{tmp_path}/a.out"
    done = _gxx(print_unit(main), "-std=c++11", "-trigraphs", "-o", exe)
    assert done.returncode == 0, done.stderr
    assert subprocess.run([exe], capture_output=True, timeout=60).stdout == text.encode()
