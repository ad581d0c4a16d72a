"""The one cattrs converter, and the entry points api/ uses to structure and unstructure.

This is where agentbot uses cattrs (STYLE.md §5: only api/ imports it). The converter is built
from the shared rules in :mod:`agentbot.api.rules` — a snake→camel hook factory for every
class with :data:`~agentbot.api.rules.RENAMES` as explicit overrides, ``extra`` kept by a
structure hook of our own (cattrs can only ignore or forbid unknown keys), strict primitive
checks — and does two jobs:

- **unstructuring** everything we send (requests, and the sandbox's events and replies);
- **explaining** a failed decode: it runs with ``detailed_validation=True``, so when the fast
  path (:mod:`agentbot.api.fastpath`) rejects data, the same data is structured again here to
  learn every bad field. cattrs' errors never leave this module: :func:`decode_error` turns
  them into :class:`agentbot.errors.DecodeError` naming the event and the dotted *wire* path
  (``message.subType``, ``account.agents[1].id``), in ``cattrs.transform_error``'s format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from agentbot.api.fastpath import fast_hook
from agentbot.api.rules import (
    FINISH,
    FLAT,
    KEEP_NULL,
    PREPARE,
    PRIMITIVE_HOOKS,
    SPECIAL_STRUCTURE,
    SPECIAL_UNSTRUCTURE,
    StructureHook,
    UnstructureHook,
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
from agentbot.errors import DecodeError

__all__ = ["converter", "decode_error", "structure", "structure_hook", "unstructure"]

T = TypeVar("T")

_MAX_ERROR_LINES = 5


def _structure_factory(cl: type[Any], conv: cattrs.Converter) -> StructureHook:
    if cl in FLAT:
        wire_cl, _, from_wire = FLAT[cl]
        wire_hook = conv.get_structure_hook(wire_cl)
        return lambda value, _: from_wire(wire_hook(value, wire_cl))
    special = SPECIAL_STRUCTURE.get(cl)
    if special is not None:
        return special
    names = wire_names(cl)
    tolerant = is_tolerant(cl)
    overrides: dict[str, Any] = {field: override(rename=key) for field, key in names.items()}
    if tolerant:
        overrides["extra"] = override(omit=True)
    generated = make_dict_structure_fn(
        cl,
        conv,
        _cattrs_forbid_extra_keys=not tolerant,
        **overrides,
    )
    known = frozenset(names.values())
    expected = f"expected a JSON object for {cl.__name__}"
    prepare = PREPARE.get(cl)

    def structure_object(value: Any, _: Any) -> Any:
        if prepare is not None:
            value = prepare(value)
        if type(value) is not dict:
            raise TypeError(f"{expected}, got {type(value).__name__}")
        instance = generated(value, cl)
        if tolerant and not known.issuperset(value):
            # Only this error-reporting path builds through __init__: fill ``extra`` as the
            # fast path does (the instance has not escaped yet).
            extra = {k: v for k, v in value.items() if k not in known}
            object.__setattr__(instance, "extra", extra)
        return instance

    return structure_object


def _unstructure_factory(cl: type[Any], conv: cattrs.Converter) -> UnstructureHook:
    if cl in FLAT:
        wire_cl, to_wire, _ = FLAT[cl]
        wire_hook = conv.get_unstructure_hook(wire_cl)
        return lambda value: wire_hook(to_wire(value))
    special = SPECIAL_UNSTRUCTURE.get(cl)
    if special is not None:
        return special
    names = wire_names(cl)
    keep_null = KEEP_NULL.get(cl, frozenset())
    overrides: dict[str, Any] = {
        a.name: override(
            rename=names[a.name],
            omit_if_default=a.default is None and a.name not in keep_null,
        )
        for a in fields(cl)
        if a.name != "extra"
    }
    tolerant = is_tolerant(cl)
    if tolerant:
        overrides["extra"] = override(omit=True)
    generated = make_dict_unstructure_fn(cl, conv, **overrides)
    order = tuple(names.values())
    finish = FINISH.get(cl)

    def unstructure_object(value: Any) -> Any:
        unordered = generated(value)
        # cattrs emits omittable fields last; keep the declared (wire documentation) order.
        wire = {key: unordered[key] for key in order if key in unordered}
        if tolerant:
            for key, item in value.extra.items():
                wire.setdefault(key, item)  # a known field always wins over a stray extra key
        return wire if finish is None else finish(wire)

    return unstructure_object


def _unstructure_tuple_factory(t: Any, conv: cattrs.Converter) -> UnstructureHook:
    item_type = t.__args__[0]
    if item_type in PRIMITIVE_HOOKS:
        return list
    hook = conv.unstructure if item_type is Any else conv.get_unstructure_hook(item_type)
    return lambda value: [hook(item) for item in value]


def _build_converter() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True)
    for primitive, hook in PRIMITIVE_HOOKS.items():
        conv.register_structure_hook(primitive, hook)
    conv.register_structure_hook_func(is_mapping, structure_mapping)
    conv.register_structure_hook_factory(is_literal, literal_hook)
    conv.register_structure_hook_factory(
        is_optional,
        lambda t: optional_hook(optional_inner(t), conv.get_structure_hook(optional_inner(t))),
    )
    conv.register_structure_hook_factory(
        is_homogeneous_tuple,
        lambda t: tuple_hook(
            t,
            None if t.__args__[0] is Any else conv.get_structure_hook(t.__args__[0]),
            detailed=True,
        ),
    )
    conv.register_structure_hook_factory(is_api_class, lambda t: _structure_factory(t, conv))
    conv.register_unstructure_hook_func(is_mapping, dict)
    conv.register_unstructure_hook_factory(
        is_homogeneous_tuple, lambda t: _unstructure_tuple_factory(t, conv)
    )
    conv.register_unstructure_hook_factory(is_api_class, lambda t: _unstructure_factory(t, conv))
    return conv


converter = _build_converter()
"""The converter: all unstructuring, and the detailed structuring behind error messages."""


def structure_hook(cl: type[T]) -> Callable[[Any, Any], T]:
    """Return the fast structure function for ``cl``, called as ``hook(data, cl)``.

    It raises some exception when ``data`` does not fit; pass that to :func:`decode_error`
    for the explanation. For hot loops that want to skip :func:`structure`'s wrapper.
    """
    return fast_hook(cl)


def structure(data: Any, cl: type[T], *, event: str) -> T:
    """Structure ``data`` into ``cl``; raise :class:`DecodeError` naming ``event`` and field."""
    try:
        result: T = fast_hook(cl)(data, cl)
    except Exception as exc:
        raise decode_error(data, cl, event=event, cause=exc) from None
    return result


def unstructure(obj: Any) -> Any:
    """Return the JSON-ready wire form of an API object (camelCase keys, extra merged back)."""
    return converter.unstructure(obj)


def decode_error(data: Any, cl: type[Any], *, event: str, cause: BaseException) -> DecodeError:
    """Explain why ``data`` does not fit ``cl`` as a :class:`DecodeError`.

    Re-runs the structuring with detailed validation to find every bad field (the fast path
    only knows that something failed); the first one's dotted wire path becomes ``field``.
    The message never echoes field values, so a misplaced secret cannot leak through it.
    """
    try:
        converter.structure(data, cl)
    except Exception as exc:
        problems = _problems(exc, "")
    else:  # the two paths disagree (a bug); still report it cleanly
        problems = [(f"cannot decode ({type(cause).__name__})", "")]
    field = problems[0][1] or None
    lines = [f"{text} @ {path}" if path else text for text, path in problems]
    if len(lines) > _MAX_ERROR_LINES:
        lines[_MAX_ERROR_LINES:] = [f"and {len(lines) - _MAX_ERROR_LINES} more"]
    return DecodeError(f"{event}: {'; '.join(lines)}", event=event, field=field)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _problems(exc: BaseException, path: str) -> list[tuple[str, str]]:
    # cattrs.transform_error's walk, returning (description, path) pairs, but naming fields by
    # their wire keys: cattrs' notes carry Python attribute names.
    found: list[tuple[str, str]] = []
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, inote in with_notes:
            found += _problem(sub, f"{path}[{inote.index!r}]", inote.type)
        found += [(format_exception(sub, None), path) for sub in without]
    elif isinstance(exc, ClassValidationError):
        keys = wire_names(exc.cl) if is_api_class(exc.cl) else {}
        with_notes_c, without_c = exc.group_exceptions()
        for sub, cnote in with_notes_c:
            found += _problem(sub, _join(path, keys.get(cnote.name, cnote.name)), cnote.type)
        for sub in without_c:
            if isinstance(sub, ForbiddenExtraKeysError):
                found += [("unknown field", _join(path, key)) for key in sorted(sub.extra_fields)]
            else:
                found.append((format_exception(sub, None), path))
    else:
        found.append((format_exception(exc, None), path))
    return found


def _problem(exc: BaseException, path: str, t: Any) -> list[tuple[str, str]]:
    if isinstance(exc, ClassValidationError | IterableValidationError):
        return _problems(exc, path)
    return [(format_exception(exc, t), path)]
