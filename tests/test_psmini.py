"""The test interpreter's model of Windows PowerShell (tests/psmini.py): the semantics the
rollback tests rely on, each as PowerShell documents and behaves, and the constructs it refuses."""
from __future__ import annotations

import pytest

from tests.psmini import Builtin, Interpreter, PSError, Unsupported


def run(source: str, function: str = "F", **named):
    interp = Interpreter(source)
    interp.define_functions()
    return interp.call(function, **named)


def test_function_output_is_unrolled_and_collapsed():
    assert run("function F { @() }") is None
    assert run("function F { @('a') }") == "a"
    assert run("function F { 'a'; 'b' }") == ["a", "b"]
    assert run("function F { return ,@('a') }") == ["a"]
    assert run("function F { $x = @(G); $x.Count }\nfunction G { }") == 0
    assert run("function F { $x = @(); $x }") is None


def test_an_assignment_keeps_an_array_even_an_empty_one():
    assert run("function F { $x = @(); return ,$x }") == []
    assert run("function F { $x = @('a'); $x.Count }") == 1


def test_a_string_array_parameter_is_an_array_of_strings_not_one_string():
    # "[string[]]" lost both pairs of brackets and bound as [string]: @('a','b') became "a b".
    source = "function F {\n    param([string[]]$Names)\n    return ,$Names\n}"
    assert run(source, Names=["a", "b"]) == ["a", "b"]
    assert run(source, Names="a") == ["a"]
    assert run(source, Names=[1, 2]) == ["1", "2"]
    assert run("function F {\n    param([string[]]$Names)\n    $Names -contains 'b'\n}", Names=["a", "b"]) is True
    assert run("function F { $x = [string[]]@(1, 'b'); return ,$x }") == ["1", "b"]


def test_a_non_empty_string_is_true_even_false():
    assert run("function F { [bool]'False' }") is True
    assert run("function F { [bool]'' }") is False
    assert run("function F { $true -eq 'False' }") is True
    assert run("function F { 'False' -eq $false }") is True   # $false becomes the string 'False'
    assert run("function F { '' -eq $false }") is False


def test_comparisons_convert_to_the_left_operand_and_ignore_case():
    assert run("function F { 'ABC' -eq 'abc' }") is True
    assert run("function F { 5 -eq '5' }") is True
    assert run("function F { $null -eq '' }") is False
    assert run("function F { @('a', 'B') -contains 'b' }") is True


def test_functions_see_their_callers_variables_and_assign_locally():
    source = """
function F { $x = 'outer'; G; $x }
function G { $y = $x + '!'; $x = 'inner'; $script:seen = $y }
"""
    interp = Interpreter(source)
    interp.define_functions()
    assert interp.call("F") == "outer"
    assert interp.script.vars["seen"] == "outer!"


def test_cmdlets_honour_the_callers_whatif_preference():
    seen = []
    source = "function F {\n    param([bool]$W)\n    $WhatIfPreference = $W\n    Change-It\n}"
    interp = Interpreter(source, commands={"Change-It": Builtin(lambda i, n, p, d: seen.append(i.whatif(n)) or [])})
    interp.define_functions()
    interp.call("F", W=True)
    interp.call("F", W=False)
    assert seen == [True, False]


def test_strict_mode_errors():
    with pytest.raises(PSError, match="has not been set"):
        run("function F { $nothing }")
    with pytest.raises(PSError, match="cannot be found"):
        run("function F { $o = New-Object -TypeName PSObject -Property @{ A = 1 }; $o.B }")


def test_try_catch_finally_and_rethrow():
    source = """
function F {
    try { throw 'first' } catch { $script:caught = $_.Exception.Message; throw } finally { $script:done = $true }
}
"""
    interp = Interpreter(source)
    interp.define_functions()
    with pytest.raises(PSError, match="first"):
        interp.call("F")
    assert interp.script.vars["caught"] == "first" and interp.script.vars["done"] is True


@pytest.mark.parametrize("source", [
    "function F { $a = @(1, 2); $a.Name }",                 # member enumeration: not in PowerShell 2.0
    "function F { $a = 'x'; $a.Count }",                    # .Count on a scalar: $null in PowerShell 2.0
    "function F { foreach ($i in $null) { } }",             # loops once in PowerShell 2.0
    "function F { @(1, 2) -eq 1 }",                         # filters instead of comparing
    "function F { 'a' -lt 'b' }",                           # culture-dependent ordering
    'function F { "a$x" }',                                 # double-quoted strings expand
    "function F { @(1) | Where-Object { $_ } }",            # not modelled
])
def test_constructs_outside_the_model_are_refused(source):
    with pytest.raises(Unsupported):
        run(source)


def test_a_path_parameter_is_a_wildcard_pattern_and_a_literal_path_is_not(tmp_path):
    (tmp_path / "Backups [2026]").mkdir()
    source = ("function F { param([string]$Root, [string]$Name, [switch]$Literal, [switch]$Escape)\n"
              "    $P = Join-Path -Path $Root -ChildPath $Name\n"
              "    if ($Escape) { $P = [System.Management.Automation.WildcardPattern]::Escape($P) }\n"
              "    if ($Literal) { Test-Path -LiteralPath $P } else { Test-Path -Path $P } }")
    root = str(tmp_path)
    assert run(source, Root=root, Name="Backups [2026]", Literal=True) is True
    assert run(source, Root=root, Name="Backups [2026]") is False          # [2026] is one of 2, 0, 6
    assert run(source, Root=root, Name="Backups [2026]", Escape=True) is True
    (tmp_path / "Backups 6").mkdir()
    assert run(source, Root=root, Name="Backups [2026]") is True
    assert run(source, Root=root, Name="Backups [0-3]", Literal=True) is False
    assert run(source, Root=root, Name="backups ?") is True                # one character, any case


def test_get_child_item_through_a_pattern_lists_the_folders_it_matches(tmp_path):
    (tmp_path / "Backups [2026]").mkdir()
    (tmp_path / "Backups [2026]" / "mine").mkdir()
    (tmp_path / "Backups 2").mkdir()
    (tmp_path / "Backups 2" / "other").mkdir()
    source = ("function F { param([string]$P, [switch]$Literal)\n"
              "    $Names = @()\n"
              "    if ($Literal) { $Items = @(Get-ChildItem -LiteralPath $P) } else { $Items = @(Get-ChildItem -Path $P) }\n"
              "    foreach ($Item in $Items) { $Names += $Item.Name }\n"
              "    return ,$Names }")
    assert run(source, P=str(tmp_path / "Backups [2026]"), Literal=True) == ["mine"]
    assert run(source, P=str(tmp_path / "Backups [2026]")) == ["other"]


def test_a_file_writing_cmdlet_resolves_an_escaped_path_only_to_a_file_that_exists(tmp_path):
    folder = tmp_path / "Backups [2026]"
    folder.mkdir()
    target = str(folder / "run.csv")
    write = ("function F { param([string]$P)\n"
             "    New-Object -TypeName PSObject -Property @{ A = 'x' } | Export-Csv -Path $P -NoTypeInformation -Encoding UTF8 }")
    with pytest.raises(PSError, match="did not resolve to a file"):
        run(write, P=target)
    escaped = target.replace("[", "`[").replace("]", "`]")
    with pytest.raises(Unsupported, match="does not exist yet"):
        run(write, P=escaped)
    run("function F {\n    param([string]$P)\n    New-Item -ItemType File -Path $P -Force | Out-Null\n}", P=target)
    run(write, P=escaped)
    assert (folder / "run.csv").read_bytes().decode("utf-8-sig") == '"A"\r\n"x"\r\n'


@pytest.mark.parametrize("source", [
    "function F { 'x' | Export-Csv -LiteralPath 'a.csv' -Encoding UTF8 }",
    "function F { Import-Csv -LiteralPath 'a.csv' }",
    "function F { Start-Transcript -LiteralPath 'a.log' }",
    "function F { Import-Clixml -LiteralPath 'a.xml' }",
])
def test_literal_path_where_windows_powershell_2_has_none_is_refused(source):
    with pytest.raises(Unsupported, match="LiteralPath"):
        run(source)
