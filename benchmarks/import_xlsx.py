"""Importing a roster from Excel against importing the same roster from CSV, in the same run.

Run: ``python benchmarks/import_xlsx.py [--members 100000] [--csv-members 0]``. Prints one JSON object.

The roster is generated (tests/import_corpus.py's names and ID numbers, never real people): a committee
with branches of 100, 12 columns as the national system exports them (姓名, 性别, 民族, 公民身份号码,
出生日期, 学历, 人员类别, 入党日期, 工作岗位, 所在党支部, 联系电话, 党籍状态), no member codes — so every
ID number is checked and hashed. The same rows are written as CSV (UTF-8) and as .xlsx (date cells).

* ``csv_seconds`` / ``xlsx_seconds``: ``run_import`` of the organisations and the roster into a fresh
  SQLite file, each in its own child process (read, check, plan, write in one transaction);
  ``ratio`` = xlsx / csv (target ≤ 3).
* ``read_calamine_seconds`` / ``read_openpyxl_seconds``: reading the workbook's sheet alone, with
  python-calamine (what the importer uses) and with pandas' openpyxl engine; ``openpyxl_vs_calamine``.
* ``--csv-members N``: also the CSV import of an N-member roster (e.g. 1,000,000), ``big_csv_seconds``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BRANCH_SIZE = 100
HEADER = ["姓名", "性别", "民族", "公民身份号码", "出生日期", "学历", "人员类别", "入党日期", "工作岗位", "所在党支部",
          "联系电话", "党籍状态"]


def roster(members: int, seed: int = 1) -> tuple[list[list[str]], list[list[object]]]:
    """(organisation rows, member rows with dates as dates)."""
    from tests.import_corpus import EDUCATIONS, GIVEN, POSTS, SURNAMES

    rng = random.Random(seed)
    branches = max(1, -(-members // BRANCH_SIZE))
    orgs = [["组织代码", "党组织名称", "党组织类别", "上级党组织", "单位性质"], ["B0", "中共演示镇委员会", "党的基层委员会", "", "乡镇"]]
    orgs += [[f"B{b + 1:06d}", f"中共演示镇第{b + 1}支部委员会", "党支部", "B0", "行政村"] for b in range(branches)]
    rows: list[list[object]] = []
    for n in range(members):
        birth = dt.date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
        male = rng.random() < 0.7
        rows.append([rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), "男" if male else "女", "汉族",
                     _unique_id(birth, n), birth, rng.choice(EDUCATIONS)[0], "正式党员",
                     dt.date(birth.year + 20, rng.randint(1, 12), rng.randint(1, 28)), rng.choice(POSTS)[0],
                     f"B{n // BRANCH_SIZE + 1:06d}", f"13{rng.randint(100000000, 999999999)}", "正常"])
    return orgs, rows


def _unique_id(birth: dt.date, n: int) -> str:
    """A valid ID number, different for every row (a region code per thousand rows)."""
    from dashboard.transfer.importer.idnumber import check_digit

    body = f"{110101 + n // 1000:06d}{birth:%Y%m%d}{n % 1000:03d}"
    return body + check_digit(body)


def write_files(directory: Path, members: int, xlsx: bool) -> None:
    orgs, rows = roster(members)
    with (directory / "orgs.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(orgs)
    with (directory / "members.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows([c.isoformat() if isinstance(c, dt.date) else c for c in r] for r in rows)
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("党员信息")
        sheet.append(HEADER)
        for r in rows:
            sheet.append(r)
        book.save(directory / "members.xlsx")


def child_import(directory: Path, members_file: str) -> dict:
    from dashboard.store.engine import open_store
    from dashboard.transfer.importer import ImportFiles, run_import

    with tempfile.TemporaryDirectory() as tmp:
        engine = open_store(f"sqlite:///{Path(tmp) / 'lianxin.db'}")
        started, cpu = time.perf_counter(), time.process_time()
        outcome = run_import(engine, ImportFiles(directory / "orgs.csv", directory / members_file), id_key=b"bench")
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    assert outcome.written, outcome.plan.report.lines()[:5]
    return {"seconds": seconds, "cpu": cpu_seconds, "members": outcome.summary()["members"]["added"],
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_read(path: Path, engine: str) -> dict:
    """Reading the sheet alone (modules imported before the clock starts)."""
    import pandas as pd

    from dashboard.transfer.importer.grid import workbook_sheet

    started = time.perf_counter()
    if engine == "calamine":
        rows = len(workbook_sheet(path, "党员信息").rows)
    else:
        rows = len(pd.read_excel(path, sheet_name=0, dtype=str, engine="openpyxl")) + 1
    return {"seconds": time.perf_counter() - started, "rows": rows}


def in_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True,
                          cwd=ROOT, timeout=3600)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--csv-members", type=int, default=0)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_import(Path(rest[0]), rest[1]) if kind == "import" else child_read(Path(rest[0]), rest[1])
        print(json.dumps(result))
        return
    load = os.getloadavg()
    out: dict[str, object] = {"members": args.members, "load_before": [round(x, 2) for x in load]}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_files(directory, args.members, xlsx=True)
        out["xlsx_mb"] = round((directory / "members.xlsx").stat().st_size / 1e6, 1)
        out["csv_mb"] = round((directory / "members.csv").stat().st_size / 1e6, 1)
        csv_run = in_child("import", str(directory), "members.csv")
        xlsx_run = in_child("import", str(directory), "members.xlsx")
        calamine = in_child("read", str(directory / "members.xlsx"), "calamine")
        openpyxl = in_child("read", str(directory / "members.xlsx"), "openpyxl")
    out |= {
        "csv_seconds": round(csv_run["seconds"], 2), "xlsx_seconds": round(xlsx_run["seconds"], 2),
        "ratio": round(xlsx_run["seconds"] / csv_run["seconds"], 2),
        "cpu_ratio": round(xlsx_run["cpu"] / csv_run["cpu"], 2),
        "read_calamine_seconds": round(calamine["seconds"], 2), "read_openpyxl_seconds": round(openpyxl["seconds"], 2),
        "openpyxl_vs_calamine": round(openpyxl["seconds"] / calamine["seconds"], 2),
        "xlsx_peak_rss_mb": round(xlsx_run["peak_mb"]), "csv_peak_rss_mb": round(csv_run["peak_mb"]),
    }
    assert csv_run["members"] == xlsx_run["members"] == args.members
    if args.csv_members:
        with tempfile.TemporaryDirectory() as tmp:
            write_files(Path(tmp), args.csv_members, xlsx=False)
            big = in_child("import", tmp, "members.csv")
        out |= {"big_csv_members": args.csv_members, "big_csv_seconds": round(big["seconds"], 2),
                "big_csv_peak_rss_mb": round(big["peak_mb"])}
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
