"""A minimal reader for frozen TensorFlow GraphDef files (protobuf wire format).

Only what weight conversion needs: node names, ops, inputs and attributes, and the value of
float/int32 ``Const`` tensors. Avoids depending on TensorFlow or the protobuf runtime.
Field numbers are from tensorflow/core/framework/{graph,node_def,attr_value,tensor}.proto.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

_DTYPES = {1: np.float32, 3: np.int32}  # DataType enum: DT_FLOAT, DT_INT32


class GraphDefError(ValueError):
    """The file is not a GraphDef this reader understands."""


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise GraphDefError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def fields(buf: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """Yield (field number, value) of one message: ints for varints, bytes views otherwise."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise GraphDefError(f"unsupported wire type {wire}")
        if pos > end:
            raise GraphDefError("truncated message")
        yield number, value


@dataclass
class Node:
    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    attrs: dict[str, memoryview] = field(default_factory=dict)  # name -> AttrValue bytes

    def attr_float(self, name: str) -> float:
        for number, value in fields(self.attrs[name]):
            if number == 4:  # AttrValue.f
                return struct.unpack("<f", value)[0]
        raise GraphDefError(f"{self.name}: attribute {name} is not a float")

    def tensor(self) -> np.ndarray:
        """Value of a Const node (AttrValue.tensor = TensorProto)."""
        for number, value in fields(self.attrs["value"]):
            if number == 8:
                return _tensor(value)
        raise GraphDefError(f"{self.name}: no tensor value")


def _tensor(buf: memoryview) -> np.ndarray:
    dtype, shape, content, values = None, [], None, []
    for number, value in fields(buf):
        if number == 1:
            dtype = _DTYPES.get(value)
        elif number == 2:  # TensorShapeProto.dim -> Dim.size
            shape = [dict(fields(dim)).get(1, 0) for n, dim in fields(value) if n == 2]
        elif number == 4:
            content = bytes(value)
        elif number == 5:  # float_val, packed
            values.append(np.frombuffer(value, dtype="<f4"))
        elif number == 7:  # int_val, packed varints
            values.append(np.array(_packed_varints(value), dtype=np.int32))
    if dtype is None:
        raise GraphDefError("unsupported tensor dtype")
    count = int(np.prod(shape)) if shape else 1
    if content is not None:
        array = np.frombuffer(content, dtype=np.dtype(dtype).newbyteorder("<"))
    elif values:
        array = np.concatenate(values).astype(dtype)
        if array.size == 1 and count > 1:  # TensorFlow stores a filled tensor as one value
            array = np.full(count, array[0], dtype=dtype)
    else:
        array = np.zeros(count, dtype=dtype)
    return array.astype(dtype).reshape(shape)


def _packed_varints(buf: memoryview) -> list[int]:
    out, pos = [], 0
    while pos < len(buf):
        value, pos = _varint(buf, pos)
        out.append(value - (1 << 64) if value >= 1 << 63 else value)
    return out


def read_graph(data: bytes) -> dict[str, Node]:
    """Parse GraphDef bytes into nodes keyed by name."""
    nodes: dict[str, Node] = {}
    for number, raw in fields(memoryview(data)):
        if number != 1:  # GraphDef.node
            continue
        node = Node(name="", op="")
        for n, value in fields(raw):
            if n == 1:
                node.name = bytes(value).decode()
            elif n == 2:
                node.op = bytes(value).decode()
            elif n == 3:
                node.inputs.append(bytes(value).decode())
            elif n == 5:  # map<string, AttrValue> entry
                entry = dict(fields(value))
                node.attrs[bytes(entry[1]).decode()] = entry.get(2, memoryview(b""))
        nodes[node.name] = node
    if not nodes:
        raise GraphDefError("no nodes: not a GraphDef")
    return nodes
