"""Parse one response body (JSON or XML) into records and the values paging needs.

Decoding is strict: a body that is not valid in its encoding is an error naming the option
to fix, never U+FFFD. JSON numbers keep their source text (``1.50`` stays ``"1.50"``).
XML is parsed with ``xml.etree.ElementTree.iterparse`` (expat protects against entity
expansion; external entities are not fetched); bodies in encodings expat lacks (GBK,
GB18030) are transcoded to UTF-8 first.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exhub.errors import ConfigError

_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml.*?\?>", re.DOTALL)
_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_KEYS_SHOWN = 20
_XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


class MalformedBody(Exception):
    """The body cannot be parsed (a gateway's HTML page, a cut-off answer): worth a retry."""


@dataclass
class Body:
    """What one page brought.

    Attributes:
        records: the items of the record list (dicts for objects; other JSON values are
            kept so that they can be rejected with their text).
        values: the texts found at the extra paths asked for (next cursor, total).
    """

    records: list[Any]
    values: dict[str, Any] = field(default_factory=dict)


def to_text(value: Any) -> str | None:
    """A JSON value as column text: strings as they are, numbers as written, the rest JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    return json_text(value)


def json_text(value: Any) -> str:
    """Compact JSON text of ``value``, Chinese kept readable, numbers as written."""
    if isinstance(value, dict):
        items = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{json_text(v)}" for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def dig(body: Any, path: str) -> tuple[bool, Any, Any]:
    """Follow a dotted path into a JSON body.

    Returns:
        tuple[bool, Any, Any]: whether the path exists, the value there, and (when it does
        not) the last container reached.
    """
    node = body
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None, node
    return True, node, None


def _shape(node: Any) -> str:
    if isinstance(node, dict):
        keys = list(node)[:_KEYS_SHOWN]
        return "an object with keys: " + (", ".join(keys) or "(none)")
    if isinstance(node, list):
        return f"a list of {len(node)}"
    return f"a {type(node).__name__}"


def parse_json(
    content: bytes,
    charset: str | None,
    records_path: str | None,
    extra_paths: Mapping[str, str],
    *,
    where: str,
) -> Body:
    """The records and extra values of a JSON body.

    Args:
        content: the body.
        charset: its encoding (option or header); None lets JSON detect UTF-8/16/32.
        records_path: dotted path of the record list; None when the body is the list.
        extra_paths: name → dotted path of values to return (missing ones are None).
        where: the request, for messages.

    Raises:
        MalformedBody: the body is not JSON.
        ConfigError: the body is not valid in its encoding, or has no ``records_path``.
    """
    try:
        text: str | bytes = content.decode(charset).lstrip("\ufeff") if charset else content
        body = json.loads(text, parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise _undecodable(where, charset or "utf-8", exc) from None
    except ValueError as exc:
        raise MalformedBody(f"the body is not JSON: {exc}") from None
    if records_path is None:
        records = body
    else:
        found, records, reached = dig(body, records_path)
        if not found:
            raise ConfigError(
                f"{where}: records_path '{records_path}' is not in the body; "
                f"the path stops at {_shape(reached)}",
                fix="set the stream's options.records_path to the dotted path of the list",
                key="options.records_path",
            )
    if records is None:
        records = []
    elif isinstance(records, dict):
        records = [records]  # a one-record answer not wrapped in a list
    elif not isinstance(records, list):
        raise ConfigError(
            f"{where}: the records are {_shape(records)}, not a list",
            fix="set options.records_path to the dotted path of the list of records",
            key="options.records_path",
        )
    values = {name: dig(body, path)[1] for name, path in extra_paths.items()}
    return Body(records, values)


def parse_xml(
    content: bytes,
    charset: str | None,
    record_path: str,
    extra_paths: Mapping[str, str],
    *,
    where: str,
    header_charset: str | None = None,
) -> Body:
    """The records and extra values of an XML body.

    Each element at ``record_path`` is one record: its attributes become ``@name`` fields,
    its child elements fields named by their local name (text; ``""`` when empty, null when
    ``xsi:nil``; the XML of a child with children of its own; a JSON list when repeated).

    Args:
        content: the body.
        charset: the encoding to read it with (option); else its XML declaration's, else
            ``header_charset`` (the Content-Type's), else UTF-8/16 as XML detects them.
        record_path: slash-separated element names below the root (the root's name may lead).
        extra_paths: name → element path of values to return (their text).
        where: the request, for messages.
        header_charset: the charset of the response's Content-Type.

    Raises:
        MalformedBody: the body is not well-formed XML.
        ConfigError: the body is not valid in its encoding, or ``record_path`` is absent.
    """
    wanted = _steps(record_path)
    extras = {name: _steps(path) for name, path in extra_paths.items()}
    data = _utf8(content, charset, header_charset, where)
    stack: list[str] = []
    records: list[dict[str, Any]] = []
    values: dict[str, Any] = dict.fromkeys(extras)
    parent_seen = len(wanted) == 1
    root_children: list[str] = []
    try:
        for event, element in ET.iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                stack.append(_local(element.tag))
                if len(stack) == 2 and stack[1] not in root_children:
                    root_children.append(stack[1])
                continue
            path, full = tuple(stack[1:]), tuple(stack)
            if wanted in (path, full):
                records.append(_record(element))
                element.clear()
            elif wanted[:-1] in (path, full):
                parent_seen = True
            for name, steps in extras.items():
                if steps in (path, full):
                    values[name] = element.text
            stack.pop()
    except ET.ParseError as exc:
        raise MalformedBody(f"the body is not well-formed XML: {exc}") from None
    if not records and not parent_seen:
        shown = ", ".join(root_children[:_KEYS_SHOWN]) or "(none)"
        raise ConfigError(
            f"{where}: record_path '{record_path}' is not in the body; "
            f"the root's child elements: {shown}",
            fix="set the stream's options.record_path to the element path of one record",
            key="options.record_path",
        )
    return Body(records, values)


def _steps(path: str) -> tuple[str, ...]:
    return tuple(step for step in path.strip("/").split("/") if step)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _record(element: ET.Element) -> dict[str, Any]:
    record: dict[str, Any] = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    children = list(element)
    if not children and not record:
        return {_local(element.tag): element.text or ""}
    for child in children:
        name = _local(child.tag)
        if len(child):
            value: Any = ET.tostring(child, encoding="unicode").strip()
        elif child.get(_XSI_NIL) in ("true", "1"):
            value = None
        else:
            value = child.text or ""
        if name in record:
            previous = record[name]
            record[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            record[name] = value
    return record


def _utf8(content: bytes, charset: str | None, header_charset: str | None, where: str) -> bytes:
    """The body as UTF-8 without a declaration, when its encoding is known; else as it is."""
    declared = _DECLARED.match(content[:512])
    encoding = charset or (declared.group(1).decode("ascii") if declared else header_charset)
    if encoding is None:
        return content
    try:
        codecs.lookup(encoding)
        text = content.decode(encoding)
    except LookupError:
        raise ConfigError(
            f"{where}: the body declares the unknown encoding '{encoding}'",
            fix="set options.encoding to the body's real encoding (e.g. gbk)",
            key="options.encoding",
        ) from None
    except UnicodeDecodeError as exc:
        raise _undecodable(where, encoding, exc) from None
    return _XML_DECLARATION.sub("", text, count=1).lstrip("\ufeff").encode("utf-8")


def _undecodable(where: str, encoding: str, exc: UnicodeDecodeError) -> ConfigError:
    return ConfigError(
        f"{where}: the body is not valid {encoding}: byte 0x{exc.object[exc.start]:02x} "
        f"at offset {exc.start}",
        fix="set options.encoding to the body's real encoding (e.g. gbk or gb18030)",
        key="options.encoding",
    )
