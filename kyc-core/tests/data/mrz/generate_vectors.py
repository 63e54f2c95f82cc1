#!/usr/bin/env python3
"""Generates vectors.jsonl: MRZ test vectors from an independent implementation.

The lines are built by the PyPI package `mrz` 0.6.2 (GPL-3.0) and its checker decides which
check digits pass. The package is used only here, to produce data; it is never linked with,
nor vendored into, the Rust code. Run it in a throwaway virtual environment:

    python3 -m venv /tmp/mrzvenv && /tmp/mrzvenv/bin/pip install mrz==0.6.2
    /tmp/mrzvenv/bin/python kyc-core/tests/data/mrz/generate_vectors.py

Each output line is one JSON object:
    {"id", "format", "reference": "YYYY-MM-DD", "lines": [...],
     "expect": {"valid", "format", "fields": {...}, "checks": {...}}}      (parses)
    {"id", "format", "reference", "lines", "expect": {"error": {"kind", ...}}}  (refused)
`expect` for a parse is the JSON that `kyc mrz parse --json` prints. Fields come from the
values given to the generator (dates as full ISO dates chosen inside the parser's century
windows), checks from the `mrz` checker; the script asserts that the checker reads the same
fields back. Everything is seeded: the output is reproducible.
"""

import datetime as dt
import json
import os
import random

from mrz.checker.mrva import MRVACodeChecker
from mrz.checker.mrvb import MRVBCodeChecker
from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td2 import TD2CodeChecker
from mrz.checker.td3 import TD3CodeChecker
from mrz.generator.mrva import MRVACodeGenerator
from mrz.generator.mrvb import MRVBCodeGenerator
from mrz.generator.td1 import TD1CodeGenerator
from mrz.generator.td2 import TD2CodeGenerator
from mrz.generator.td3 import TD3CodeGenerator

REFERENCE = dt.date(2024, 6, 1)
SEED = 9303
PER_FORMAT = 24
LENGTH = {"TD1": 30, "TD2": 36, "TD3": 44, "MRVA": 44, "MRVB": 36}
LINES = {"TD1": 3, "TD2": 2, "TD3": 2, "MRVA": 2, "MRVB": 2}
CODES = {"TD1": ["I", "ID", "AC", "C"], "TD2": ["I", "ID", "AC"], "TD3": ["P", "PD", "PO"],
         "MRVA": ["V", "VD"], "MRVB": ["V", "VD"]}
OPTIONAL_MAX = {"TD1": 15, "TD2": 7, "TD3": 14, "MRVA": 16, "MRVB": 8}
COUNTRIES = ["UTO", "D", "FRA", "NLD", "GBR", "ITA", "ESP", "CAN", "JPN", "XXA", "CHE", "KEN"]
SYLLABLES = ["AN", "BER", "CA", "DO", "EL", "FI", "GAR", "HO", "IN", "JO", "KA", "LU", "MA",
             "NO", "OS", "PE", "QUI", "RO", "SA", "TO", "UL", "VA", "WE", "XI", "YU", "ZO"]

rng = random.Random(SEED)


def word(lo=1, hi=3):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(lo, hi)))


def alnum(n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n))


def date_between(lo_days, hi_days):
    return REFERENCE + dt.timedelta(days=rng.randint(lo_days, hi_days))


def yymmdd(d):
    return d.strftime("%y%m%d")


def generate(fmt):
    surname = " ".join(word() for _ in range(rng.choice([1, 1, 1, 2])))
    given = " ".join(word() for _ in range(rng.choice([0, 1, 1, 2, 2, 3])))
    name_room = 30 if fmt == "TD1" else LENGTH[fmt] - 5
    while len(surname) + 2 + len(given) > name_room:
        given = given.rsplit(" ", 1)[0] if " " in given else ""
    number = alnum(rng.choice([6, 8, 9, 9, 9]))
    birth = date_between(-95 * 365, -1)
    expiry = date_between(-10 * 365, 12 * 365)
    v = {
        "code": rng.choice(CODES[fmt]),
        "state": rng.choice(COUNTRIES),
        "nationality": rng.choice(COUNTRIES),
        "surname": surname,
        "given": given,
        "number": number,
        "birth": birth,
        "expiry": expiry,
        "sex": rng.choice(["M", "F", "<"]),
        "optional": alnum(rng.choice([0, 0, rng.randint(1, OPTIONAL_MAX[fmt])])),
        "optional2": alnum(rng.choice([0, 0, 5, 11])) if fmt == "TD1" else "",
    }
    b, e = yymmdd(birth), yymmdd(expiry)
    if fmt == "TD1":
        gen = TD1CodeGenerator(v["code"], v["state"], number, b, v["sex"], e, v["nationality"],
                               surname, given, v["optional"], v["optional2"], force=True)
    elif fmt == "TD2":
        gen = TD2CodeGenerator(v["code"], v["state"], surname, given, number, v["nationality"], b,
                               v["sex"], e, v["optional"], force=True)
    elif fmt == "TD3":
        gen = TD3CodeGenerator(v["code"], v["state"], surname, given, number, v["nationality"], b,
                               v["sex"], e, v["optional"], force=True)
    elif fmt == "MRVA":
        gen = MRVACodeGenerator(v["code"], v["state"], surname, given, number, v["nationality"], b,
                                v["sex"], e, v["optional"], force=True)
    else:
        gen = MRVBCodeGenerator(v["code"], v["state"], surname, given, number, v["nationality"], b,
                                v["sex"], e, v["optional"], force=True)
    lines = str(gen).split("\n")
    assert [len(line) for line in lines] == [LENGTH[fmt]] * LINES[fmt], lines
    return v, lines


def checker_for(fmt, lines):
    text = "\n".join(lines)
    return {"TD1": TD1CodeChecker, "TD2": TD2CodeChecker, "TD3": TD3CodeChecker,
            "MRVA": MRVACodeChecker, "MRVB": MRVBCodeChecker}[fmt](text)


def checks(fmt, lines):
    c = checker_for(fmt, lines)
    out = {"documentNumber": bool(c.document_number_hash),
           "birthDate": bool(c.birth_date_hash),
           "expiryDate": bool(c.expiry_date_hash)}
    if fmt == "TD3":
        out["optionalData"] = bool(c.optional_data_hash)
    if fmt in ("TD1", "TD2", "TD3"):
        out["composite"] = bool(c.final_hash)
    return c, out


def expected(fmt, v, lines):
    c, chk = checks(fmt, lines)
    f = c.fields()
    # The independent reading agrees with the values given to the generator.
    assert f.surname == v["surname"], (f.surname, v)
    assert f.name == v["given"], (f.name, v)
    assert f.document_number == v["number"], (f.document_number, v)
    fields = {
        "documentCode": v["code"],
        "issuingState": v["state"],
        "surname": v["surname"],
        "givenNames": v["given"],
        "documentNumber": v["number"],
        "nationality": v["nationality"],
        "birthDate": v["birth"].isoformat(),
        "sex": "X" if v["sex"] == "<" else v["sex"],
        "expiryDate": v["expiry"].isoformat(),
        "optionalData": v["optional"],
    }
    if fmt == "TD1":
        fields["optionalData2"] = v["optional2"]
    return {"valid": all(chk.values()), "format": fmt, "fields": fields, "checks": chk}


def replace(line, pos, ch):
    return line[:pos] + ch + line[pos + 1:]


# Check-digit positions (line index, column) per format, by the ICAO layouts.
CHECK_DIGITS = {
    "TD1": [(0, 14), (1, 6), (1, 14), (1, 29)],
    "TD2": [(1, 9), (1, 19), (1, 27), (1, 35)],
    "TD3": [(1, 9), (1, 19), (1, 27), (1, 42), (1, 43)],
    "MRVA": [(1, 9), (1, 19), (1, 27)],
    "MRVB": [(1, 9), (1, 19), (1, 27)],
}
# A digit of the birth date, which its check digit and the composite both cover.
BIRTH_DIGIT = {"TD1": (1, 2), "TD2": (1, 15), "TD3": (1, 15), "MRVA": (1, 15), "MRVB": (1, 15)}


def vectors():
    out = []
    for fmt in ["TD1", "TD2", "TD3", "MRVA", "MRVB"]:
        for i in range(PER_FORMAT):
            v, lines = generate(fmt)
            vid = f"{fmt.lower()}-{i:02d}"
            exp = expected(fmt, v, lines)
            assert exp["valid"], (vid, lines)
            out.append({"id": vid, "format": fmt, "lines": lines, "expect": exp})
            kind = i % 8
            if kind == 1:  # a wrong check digit
                li, col = rng.choice(CHECK_DIGITS[fmt])
                old = lines[li][col]
                new = rng.choice([d for d in "0123456789" if d != old])
                bad = list(lines)
                bad[li] = replace(bad[li], col, new)
                exp = expected(fmt, v, bad)
                assert not exp["valid"], (vid, bad)
                out.append({"id": vid + "-bad-check-digit", "format": fmt, "lines": bad,
                            "expect": exp})
            elif kind == 2:  # a changed birth-date digit
                li, col = BIRTH_DIGIT[fmt]
                old = lines[li][col]
                new = str((int(old) + rng.randint(1, 9)) % 10)
                bad = list(lines)
                bad[li] = replace(bad[li], col, new)
                _, chk = checks(fmt, bad)
                assert not chk["birthDate"], (vid, bad)
                # The birth date itself changed: only the parse outcome of validity and
                # checks is compared for this kind (the date may not even exist).
                out.append({"id": vid + "-bad-birth-digit", "format": fmt, "lines": bad,
                            "expect": {"valid": False, "format": fmt, "checks": chk}})
            elif kind == 3:  # a line one character short
                li = len(lines) - 1
                bad = list(lines)
                bad[li] = bad[li][:-1]
                out.append({"id": vid + "-short-line", "format": fmt, "lines": bad,
                            "expect": {"error": {"kind": "WrongLineLength", "line": li + 1,
                                                 "expected": LENGTH[fmt],
                                                 "found": LENGTH[fmt] - 1}}})
            elif kind == 4:  # a line one character long
                bad = list(lines)
                bad[0] = bad[0] + "<"
                exp_len = LENGTH[fmt]
                out.append({"id": vid + "-long-line", "format": fmt, "lines": bad,
                            "expect": {"error": {"kind": "WrongLineLength", "line": 1,
                                                 "expected": exp_len, "found": exp_len + 1}}})
            elif kind == 5:  # a line missing
                bad = list(lines[:-1])
                out.append({"id": vid + "-missing-line", "format": fmt, "lines": bad,
                            "expect": {"error": {"kind": "WrongLineCount",
                                                 "found": len(bad)}}})
            elif kind == 6:  # a lowercase letter
                li = 0
                col = next(k for k, ch in enumerate(lines[0]) if ch.isalpha())
                bad = list(lines)
                bad[li] = replace(bad[li], col, bad[li][col].lower())
                out.append({"id": vid + "-lowercase", "format": fmt, "lines": bad,
                            "expect": {"error": {"kind": "InvalidCharacter", "line": li + 1,
                                                 "position": col + 1}}})
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "vectors.jsonl")
    rows = vectors()
    with open(path, "w", encoding="ascii") as f:
        for row in rows:
            row = {"id": row["id"], "format": row["format"],
                   "reference": REFERENCE.isoformat(), "lines": row["lines"],
                   "expect": row["expect"]}
            f.write(json.dumps(row, separators=(",", ":")) + "\n")
    print(f"wrote {len(rows)} vectors to {path}")


if __name__ == "__main__":
    main()
