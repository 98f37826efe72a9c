"""Reader for dlib's binary serialisation primitives (dlib/serialize.h and friends).

dlib writes every value with its own small self-describing encoding, so a model file
can be walked without dlib itself.  Only what the face models need is implemented:

* integers: one control byte (bit 7 = negative, low 4 bits = byte count) followed by
  the magnitude in little-endian order;
* floats: a ``float_details`` pair (int64 mantissa, int16 exponent), value
  ``mantissa * 2**exponent`` with three reserved exponents for inf/-inf/nan;
* strings: length integer then raw bytes;
* bools: the ASCII byte ``'0'`` or ``'1'``;
* dnn tensors: version 2, four dims, then raw little-endian float32;
* matrices: rows, cols (negated in the current format), then row-major floats.

Every failure raises :class:`DlibFormatError` (a ``ValueError``) that names the byte
offset, so a truncated or foreign file gives a clear message instead of garbage.
"""

from __future__ import annotations

import math

import numpy as np

_FLOAT_INF = 32000
_FLOAT_NINF = 32001
_FLOAT_NAN = 32002


class DlibFormatError(ValueError):
    """The bytes do not follow dlib's serialisation format (or the file is truncated)."""


class DlibReader:
    """Sequential cursor over an in-memory dlib serialised blob."""

    def __init__(self, data: bytes, name: str = "<dlib data>") -> None:
        self._data = memoryview(data)
        self.name = name
        self.pos = 0

    # -- low level -----------------------------------------------------------------

    @property
    def remaining(self) -> int:
        return len(self._data) - self.pos

    def error(self, message: str) -> DlibFormatError:
        return DlibFormatError(f"{self.name}: {message} (at byte {self.pos})")

    def take(self, count: int) -> memoryview:
        """Return the next ``count`` bytes, failing loudly if the file ends first."""
        if count < 0 or self.pos + count > len(self._data):
            raise self.error(f"unexpected end of data: wanted {count} bytes, "
                             f"{self.remaining} left (file truncated?)")
        chunk = self._data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def peek_byte(self) -> int:
        if self.remaining < 1:
            raise self.error("unexpected end of data (file truncated?)")
        return self._data[self.pos]

    # -- scalars -------------------------------------------------------------------

    def read_int(self) -> int:
        """A dlib integer of any width (signed or unsigned share the encoding)."""
        control = self.take(1)[0]
        size = control & 0x0F
        if control & 0x70 or size > 8:
            self.pos -= 1
            raise self.error(f"invalid integer control byte 0x{control:02x}")
        value = int.from_bytes(self.take(size), "little") if size else 0
        return -value if control & 0x80 else value

    def read_float(self) -> float:
        """A float/double stored as ``float_details`` (mantissa, exponent)."""
        if self.peek_byte() & 0x70:
            raise self.error("old ASCII float encoding is not supported")
        mantissa = self.read_int()
        exponent = self.read_int()
        if exponent == _FLOAT_INF:
            return math.inf
        if exponent == _FLOAT_NINF:
            return -math.inf
        if exponent == _FLOAT_NAN:
            return math.nan
        return math.ldexp(float(mantissa), exponent)

    def read_bool(self) -> bool:
        byte = self.take(1)[0]
        if byte not in (0x30, 0x31):
            self.pos -= 1
            raise self.error(f"invalid bool byte 0x{byte:02x}")
        return byte == 0x31

    def read_string(self, max_len: int = 1 << 16) -> str:
        length = self.read_int()
        if not 0 <= length <= max_len:
            raise self.error(f"implausible string length {length}")
        raw = bytes(self.take(length))
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise self.error(f"non-ASCII string {raw[:32]!r}") from exc

    def expect_string(self, *allowed: str) -> str:
        """Read a version/name string and check it is one of ``allowed``."""
        start = self.pos
        value = self.read_string(max_len=256)
        if value not in allowed:
            self.pos = start
            raise self.error(f"expected one of {list(allowed)}, found {value!r}")
        return value

    def expect_int(self, *allowed: int, what: str = "version") -> int:
        start = self.pos
        value = self.read_int()
        if value not in allowed:
            self.pos = start
            raise self.error(f"unexpected {what} {value}, expected one of {list(allowed)}")
        return value

    # -- bulk scalars (vectorised) --------------------------------------------------

    def read_ints(self, count: int) -> np.ndarray:
        """``count`` consecutive dlib integers as int64, decoded with numpy.

        The encoding is variable length, so element positions form a chain
        (next = pos + 1 + size).  The chain is enumerated by pointer doubling over a
        window of bytes, which keeps big shape-predictor files fast to parse.
        """
        if count <= 0:
            return np.zeros(0, np.int64)
        window = np.frombuffer(self._data[self.pos:self.pos + 9 * count], dtype=np.uint8)
        n = window.size
        jump = np.append(np.minimum(np.arange(n) + 1 + (window & 0x0F), n), n)
        positions = np.zeros(1, np.int64)
        while positions.size < count:
            positions = np.concatenate([positions, jump[positions]])
            jump = jump[jump]
        positions = positions[:count]
        if positions[-1] >= n:
            raise self.error(f"unexpected end of data while reading {count} integers "
                             "(file truncated?)")
        control = window[positions]
        sizes = (control & 0x0F).astype(np.int64)
        if np.any(control & 0x70) or np.any(sizes > 8):
            raise self.error("invalid integer control byte in integer run")
        end = int(positions[-1] + 1 + sizes[-1])
        if end > n:
            raise self.error("unexpected end of data in integer run (file truncated?)")
        padded = np.concatenate([window[:end], np.zeros(8, np.uint8)])
        values = np.zeros(count, np.uint64)
        for j in range(int(sizes.max())):
            byte = padded[positions + 1 + j].astype(np.uint64)
            values |= np.where(sizes > j, byte, 0).astype(np.uint64) << np.uint64(8 * j)
        signed = values.astype(np.int64)
        self.pos += end
        return np.where(control & 0x80, -signed, signed)

    def read_floats(self, count: int) -> np.ndarray:
        """``count`` consecutive ``float_details`` values as float64."""
        pairs = self.read_ints(2 * count).reshape(count, 2)
        mantissa, exponent = pairs[:, 0], pairs[:, 1]
        special = exponent >= _FLOAT_INF
        values = np.ldexp(mantissa.astype(np.float64), np.where(special, 0, exponent))
        if special.any():
            values[exponent == _FLOAT_INF] = np.inf
            values[exponent == _FLOAT_NINF] = -np.inf
            values[exponent >= _FLOAT_NAN] = np.nan
        return values

    # -- containers ----------------------------------------------------------------

    def read_tensor(self) -> np.ndarray:
        """A ``dlib::resizable_tensor``: returns float32 array shaped (n, k, nr, nc)."""
        self.expect_int(2, what="tensor version")
        dims = tuple(self.read_int() for _ in range(4))
        if any(d < 0 for d in dims):
            raise self.error(f"negative tensor dims {dims}")
        count = int(np.prod(dims, dtype=np.int64))
        raw = self.take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(dims)

    def read_alias_tensor(self) -> tuple[int, int, int, int]:
        """A ``dlib::alias_tensor`` (shape only): (n, k, nr, nc)."""
        self.expect_int(1, what="alias_tensor version")
        return tuple(self.read_int() for _ in range(4))  # type: ignore[return-value]

    def read_matrix(self) -> np.ndarray:
        """A ``dlib::matrix<float>``: float64 array (rows, cols)."""
        rows, cols = self.read_int(), self.read_int()
        if rows < 0 or cols < 0:
            rows, cols = -rows, -cols
        if rows * cols > 1 << 26:
            raise self.error(f"implausible matrix size {rows}x{cols}")
        values = [self.read_float() for _ in range(rows * cols)]
        return np.asarray(values, dtype=np.float64).reshape(rows, cols)

    def read_length(self, limit: int = 1 << 24) -> int:
        """The element count that prefixes a ``std::vector``."""
        count = self.read_int()
        if not 0 <= count <= limit:
            raise self.error(f"implausible element count {count}")
        return count

    def expect_end(self) -> None:
        if self.remaining:
            raise self.error(f"{self.remaining} unexpected trailing bytes")
