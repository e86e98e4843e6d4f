"""The real processes with file fields where the web tests need them (issue 14).

The routine item's ``submit`` takes its published documents (``documents``) and, for the
tests of G1 and personal data, a personal-data scan (``id_scan``); the 依申请公开
application takes supporting documents with the submission (``documents``). A field the
process already declares under that name is left as declared: once machines/ has its own
file fields these tests run on them unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from workflow.core.declare import Field, Process, Text

DOCUMENTS = Field("documents", "file", Text("公开的文件", "Published documents"),
                  required=False, max=3)
ID_SCAN = Field("id_scan", "file", Text("身份证扫描件", "ID card scan"), required=False, max=1,
                personal=True)
SUPPORTING = Field("documents", "file", Text("证明材料", "Supporting documents"),
                   required=False, max=3)


def _plus(schema, fields: tuple[Field, ...]):
    names = {f.name for f in schema.fields}
    return replace(schema, fields=schema.fields + tuple(f for f in fields
                                                        if f.name not in names))


def with_files(processes: list[Process]) -> list[Process]:
    found = []
    for process in processes:
        if process.kind == "routine":
            process = replace(process, triggers=tuple(
                replace(t, schema=_plus(t.schema, (DOCUMENTS, ID_SCAN)))
                if t.name == "submit" else t for t in process.triggers))
        elif process.kind == "application":
            process = replace(process, start_schema=_plus(process.start_schema, (SUPPORTING,)))
        found.append(process)
    return found
