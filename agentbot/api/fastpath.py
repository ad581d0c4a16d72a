"""The hot path: generated structure functions that build our frozen models directly.

Why not cattrs' own generated functions here? They end in a call to the class, and a frozen,
slotted attrs ``__init__`` stores every field through ``object.__setattr__``: on this
project's 2-core machines, just calling the three classes of a ``chat.message_received``
with known values costs ~3.2 µs, more than this whole path (~2.9 µs per event, checks and
``extra`` included; the cattrs converter with the same rules: ~5.2 µs; see
``benchmarks/api_decode.py``). The functions generated here check each field inline (no call
per string) and store it through the slot's own descriptor on an instance made with
``object.__new__``: the same object ``__init__`` would build. That is only equivalent for
classes without validators, converters, factories or ``__attrs_post_init__``;
:func:`fast_hook` checks this and refuses any other class.

The fast path says *that* data does not fit (it raises some exception), never *why*: the
caller then re-runs the cattrs converter with detailed validation, built from the same
:mod:`agentbot.api.rules`, for the error message. A test checks both paths accept and reject
the same inputs.
"""

from __future__ import annotations

import linecache
from typing import Any

import attrs

from agentbot.api.models import EMPTY_MAPPING
from agentbot.api.rules import (
    FLAT,
    PREPARE,
    PRIMITIVE_HOOKS,
    SPECIAL_STRUCTURE,
    StructureHook,
    fields,
    is_api_class,
    is_homogeneous_tuple,
    is_literal,
    is_mapping,
    is_optional,
    is_tolerant,
    literal_hook,
    optional_hook,
    optional_inner,
    structure_mapping,
    tuple_hook,
    wire_names,
)

__all__ = ["fast_hook"]

# Inline checks for the common field types: (type, accepts null). Anything else calls a hook.
_INLINE_CHECKS: dict[Any, str] = {
    str: "type(v) is not str",
    bool: "type(v) is not bool",
    int: "type(v) is not int",
    str | None: "v is not None and type(v) is not str",
    bool | None: "v is not None and type(v) is not bool",
    int | None: "v is not None and type(v) is not int",
}


class _Mismatch(TypeError):
    """Raised by generated code: the data does not fit; the slow path will say why."""


_HOOKS: dict[Any, StructureHook] = {}


def fast_hook(t: Any) -> StructureHook:
    """Return the fast structure function for type ``t``, called as ``hook(data, t)``.

    Built once per type and cached. Raises ``TypeError`` for a type the rules do not cover.
    """
    hook = _HOOKS.get(t)
    if hook is None:
        hook = _HOOKS[t] = _build(t)
    return hook


def _build(t: Any) -> StructureHook:
    if t is Any:
        return lambda value, _: value
    primitive = PRIMITIVE_HOOKS.get(t)
    if primitive is not None:
        return primitive
    if is_optional(t):
        inner = optional_inner(t)
        return optional_hook(inner, fast_hook(inner))
    if is_homogeneous_tuple(t):
        item = t.__args__[0]
        return tuple_hook(t, None if item is Any else fast_hook(item), detailed=False)
    if is_mapping(t):
        return structure_mapping
    if is_literal(t):
        return literal_hook(t)
    if is_api_class(t):
        if t in FLAT:
            wire_cl, _, from_wire = FLAT[t]
            wire_hook = fast_hook(wire_cl)
            return lambda value, _: from_wire(wire_hook(value, wire_cl))
        special = SPECIAL_STRUCTURE.get(t)
        if special is not None:
            return special
        generated = _generate(t)
        prepare = PREPARE.get(t)
        if prepare is None:
            return generated
        return lambda value, cl: generated(prepare(value), cl)
    raise TypeError(f"no structure rule for {t!r}")


def _check_plain(cl: type[Any]) -> None:
    # Building through slots skips __init__: refuse any class whose __init__ does more.
    if "__slots__" not in cl.__dict__:
        raise TypeError(f"{cl.__qualname__}: the fast path needs a slotted class")
    for hook in ("__attrs_pre_init__", "__attrs_post_init__", "__attrs_init_subclass__"):
        if hasattr(cl, hook):
            raise TypeError(f"{cl.__qualname__} has {hook}: the fast path would skip it")
    for a in fields(cl):
        if a.validator is not None or a.converter is not None or not a.init:
            raise TypeError(f"{cl.__qualname__}.{a.name}: validators/converters unsupported")
        if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
            raise TypeError(f"{cl.__qualname__}.{a.name}: use a shared immutable default")


def _null_means_default(a: attrs.Attribute[Any]) -> bool:
    # Where a missing key and an explicit null give the same value, one ``o.get`` does both.
    t = a.type
    if a.default is None:
        return is_optional(t) or t is Any
    if a.default == () and is_homogeneous_tuple(t):
        return True
    return a.default is EMPTY_MAPPING and is_mapping(t)


def _generate(cl: type[Any]) -> StructureHook:
    attrs.resolve_types(cl)  # the models use ``from __future__ import annotations``
    _check_plain(cl)
    names = wire_names(cl)
    known = frozenset(names.values())
    ns: dict[str, Any] = {
        "__new": object.__new__,
        "__cl": cl,
        "__known": known,
        "__EMPTY": EMPTY_MAPPING,
        "__Mismatch": _Mismatch,
    }
    lines = [
        "def structure(o, _=None):",
        "  if type(o) is not dict: raise __Mismatch",
        "  i = __new(__cl)",
    ]
    for a in fields(cl):
        if a.name == "extra":
            continue
        key, n = names[a.name], a.name
        ns[f"__s_{n}"] = cl.__dict__[n].__set__
        check = _INLINE_CHECKS.get(a.type)
        if check is None and a.type is not Any:
            ns[f"__h_{n}"], ns[f"__t_{n}"] = fast_hook(a.type), a.type
        body = [f"if {check}: raise __Mismatch"] if check else []
        if check is None and a.type is not Any:
            body = [f"v = __h_{n}(v, __t_{n})"]
        if a.default is attrs.NOTHING:
            lines += [f"  v = o[{key!r}]", *(f"  {line}" for line in body)]
        elif _null_means_default(a):
            lines.append(f"  v = o.get({key!r})")
            if check:
                lines.append(f"  {body[0]}")
            elif a.type is not Any:  # a missing key or null is the default: skip the hook
                ns[f"__d_{n}"] = a.default
                lines.append(f"  v = __d_{n} if v is None else __h_{n}(v, __t_{n})")
        else:
            ns[f"__d_{n}"] = a.default
            lines += [f"  if {key!r} in o:", f"    v = o[{key!r}]"]
            lines += [*(f"    {line}" for line in body), "  else:", f"    v = __d_{n}"]
        lines.append(f"  __s_{n}(i, v)")
    if is_tolerant(cl):
        ns["__s_extra"] = cl.__dict__["extra"].__set__
        lines += [
            "  if __known.issuperset(o): __s_extra(i, __EMPTY)",
            "  else: __s_extra(i, {k: x for k, x in o.items() if k not in __known})",
        ]
    else:
        lines.append("  if not __known.issuperset(o): raise __Mismatch")
    lines.append("  return i")
    source = "\n".join(lines) + "\n"
    filename = f"<agentbot fast structure {cl.__module__}.{cl.__qualname__}>"
    exec(compile(source, filename, "exec"), ns)
    # Registered like cattrs does, so tracebacks through generated code show its source.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    hook: StructureHook = ns["structure"]
    return hook
