"""Reports of the annual evaluation: HTML, PDF, XLSX and JSON from one context.

Importing this package is cheap on purpose: the CLI's JSON path must not pay for matplotlib,
WeasyPrint or the web stack, so the heavy modules (`charts`, `evaluation_context`,
`evaluation_report`, `evaluation_xlsx`) are imported only by whoever renders a report.
"""
