"""What an evaluation writes: the report (JSON, markdown), its tables, paired statistics and plots.

Modules: ``writing`` (report.json and report.md), ``tables`` (markdown tables), ``statistics`` (paired
differences over seeds with intervals), ``plots`` (low-data curve, predicted vs measured, embedding map).
"""
