"""Inserts and lookups the loop makes for every call, as statements made once.

Peewee builds a query's SQL again every time it runs: 0.3-1 ms of Python on the loop for
a statement SQLite answers in microseconds (a fifth of the supervisor's time holding the
interpreter under the mixed load was peewee's ``Context.sql``, bench/mixed_load.py). These
helpers make the statement once per model and set of columns and convert the values with the
fields' own ``db_value``/``python_value``, so rows are the same as the models' own
``insert``/``get_or_none`` make and read: the columns given, plus every field with a
default (taken as peewee takes it), in the model's field order.
"""

from __future__ import annotations

import functools

from peewee import AutoField, Model


@functools.lru_cache(maxsize=None)
def _fields(model: type[Model]) -> dict:
    """Field by name and by column name (a foreign key's ``user`` and ``user_id``)."""
    found = {}
    for field in model._meta.sorted_fields:
        found[field.name] = field
        found[field.column_name] = field
    return found


@functools.lru_cache(maxsize=256)
def _insert_sql(model: type[Model], columns: tuple[str, ...], conflict: str) -> str:
    verb = f"INSERT OR {conflict}" if conflict else "INSERT"
    names = ", ".join(f'"{c}"' for c in columns)
    return f'{verb} INTO "{model._meta.table_name}" ({names}) VALUES ({", ".join("?" * len(columns))})'


def insert(model: type[Model], values: dict, conflict: str = "") -> int:
    """``model.insert(**values)`` (``conflict``: ``"REPLACE"`` or ``"IGNORE"``, as
    ``on_conflict_replace()``/``on_conflict_ignore()``); the new row's id."""
    fields = _fields(model)
    given = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            raise AttributeError(f"{model.__name__} has no field {name!r}")
        given[field] = value
    for field in model._meta.sorted_fields:
        if field not in given and field.default is not None and not isinstance(field, AutoField):
            given[field] = field.default() if callable(field.default) else field.default
    ordered = [f for f in model._meta.sorted_fields if f in given]
    sql = _insert_sql(model, tuple(f.column_name for f in ordered), conflict)
    return model._meta.database.execute_sql(sql, [f.db_value(given[f]) for f in ordered]).lastrowid


@functools.lru_cache(maxsize=64)
def _select_sql(model: type[Model], key: str) -> str:
    columns = ", ".join(f'"{f.column_name}"' for f in model._meta.sorted_fields)
    return f'SELECT {columns} FROM "{model._meta.table_name}" WHERE "{_fields(model)[key].column_name}" = ? LIMIT 1'


def row_by(model: type[Model], key: str, value) -> dict | None:
    """``model.select().where(getattr(model, key) == value).dicts().first()``: the row as a
    dict by field name, its values as the model reads them, or None."""
    field = _fields(model)[key]
    found = model._meta.database.execute_sql(_select_sql(model, key), (field.db_value(value),)).fetchone()
    if found is None:
        return None
    return {f.name: f.python_value(v) for f, v in zip(model._meta.sorted_fields, found)}
