"""What the one gate asks of a view: the permission of the first write service a UI view or an API handler calls.

Read from the source, not from a hand table: a view's calls are resolved to the functions they name (through the
module's globals, `services.x` and helpers of the view's own module), the first one that lives in a
`pivotdesk.<app>.services` module is the service, and the service's own first `Perm.X` (in its body, or in a helper
of its module it calls, such as `_require`) is the permission it needs. `authorize_system` means "system only".
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from pivotdesk.accounts.permissions import Perm

SYSTEM_ONLY = "system"
_GATES = {"authorize", "require"}  # the gate's functions (pivotdesk.accounts.permissions)


def _tree(fn: Callable[..., Any]) -> ast.AST | None:
    fn = inspect.unwrap(fn)
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError):
        return None


def _in_order(tree: ast.AST) -> list[ast.AST]:
    nodes = [n for n in ast.walk(tree) if hasattr(n, "lineno")]
    return sorted(nodes, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))


def _resolve(fn: Callable[..., Any], call: ast.Call) -> Any:
    """The object a call names, looked up in the calling function's module (a decorator's wrapper looked through)."""
    scope = getattr(inspect.unwrap(fn), "__globals__", {})
    return _lookup(scope, call.func)


def _lookup(scope: dict[str, Any], node: ast.expr) -> Any:
    """`name`, `module.name`, `package.module.name` in a module's globals."""
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _lookup(scope, node.value)
        if isinstance(owner, ModuleType):
            return getattr(owner, node.attr, None)
    return None


def _is_service(obj: Any) -> bool:
    return inspect.isfunction(obj) and ".services" in obj.__module__ and not obj.__name__.startswith("_")


def _calls(fn: Callable[..., Any]) -> Iterator[Any]:
    tree = _tree(fn)
    if tree is None:
        return
    for node in _in_order(tree):
        if isinstance(node, ast.Call) and (obj := _resolve(fn, node)) is not None:
            yield obj


def services_called(view: Callable[..., Any], depth: int = 2) -> list[Callable[..., Any]]:
    """The services a view calls, in source order, looking through helpers of the view's own package."""
    view = inspect.unwrap(view)
    found: list[Callable[..., Any]] = []
    for obj in _calls(view):
        if _is_service(obj):
            found.append(obj)
        elif depth and inspect.isfunction(obj) and obj.__module__.startswith(view.__module__.rsplit(".", 1)[0]):
            found.extend(services_called(obj, depth - 1))
    return list(dict.fromkeys(found))


@functools.cache
def service_permission(service: Callable[..., Any]) -> str | None:
    """The first permission a service asks the gate for (`Perm` value), `SYSTEM_ONLY`, or None if it asks none.

    A call to the gate (`authorize`, `require`) or to a helper of the service's own module (`_require(actor,
    Perm.X)`) names the permission; of a conditional (`Perm.A if own else Perm.B`) the first one counts."""
    tree = _tree(service)
    if tree is None:
        return None
    for node in _in_order(tree):
        if not isinstance(node, ast.Call):
            continue
        obj = _resolve(service, node)
        name = getattr(obj, "__name__", "")
        if name == "authorize_system":
            return SYSTEM_ONLY
        local = (
            inspect.isfunction(obj)
            and inspect.unwrap(obj).__module__ == inspect.unwrap(service).__module__
            and obj is not service
        )
        if name in _GATES or local:
            named = _first_perm([*node.args, *(k.value for k in node.keywords)])
            if named is not None:
                return named
        if local and (inner := service_permission(obj)) is not None:
            return inner
    return None


def _first_perm(arguments: list[ast.expr]) -> str | None:
    for argument in arguments:
        for node in _in_order(argument):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Perm":
                return Perm[node.attr].value
    return None


def view_permission(view: Callable[..., Any]) -> tuple[str | None, str]:
    """(permission, service name) of the first gated service a view calls; else the permission the view asks the
    gate for itself (`require(desk.agent, Perm.X)` on a settings page); (None, "") when neither."""
    for service in services_called(view):
        perm = service_permission(service)
        if perm is not None:
            return perm, f"{service.__module__}.{service.__name__}"
    perm = _view_gate(inspect.unwrap(view))
    return (perm, f"{inspect.unwrap(view).__module__}.{inspect.unwrap(view).__name__}") if perm else (None, "")


def _view_gate(view: Callable[..., Any], depth: int = 2) -> str | None:
    """The first Perm a view (or a helper of its package) passes to the gate or to a helper."""
    tree = _tree(view)
    if tree is None:
        return None
    package = view.__module__.rsplit(".", 1)[0]
    for node in _in_order(tree):
        if not isinstance(node, ast.Call):
            continue
        obj = _resolve(view, node)
        if getattr(obj, "__name__", "") in _GATES:  # not `can`, which only shows or hides an affordance
            named = _first_perm([*node.args, *(k.value for k in node.keywords)])
            if named is not None:
                return named
        helper = depth and inspect.isfunction(obj) and inspect.unwrap(obj).__module__.startswith(package)
        if helper and (inner := _view_gate(inspect.unwrap(obj), depth - 1)) is not None:
            return inner
    return None
