"""Spreadsheet imports and exports of the city's registers (institutions, rooms, population).

One pipeline for every file (``pipeline``): read (``tables``) → map headers → validate each row →
report → apply in one transaction. Each register is a small ``Spec`` on top (``institutions``,
``rooms``, ``population``). See docs/domain/imports.md.
"""
